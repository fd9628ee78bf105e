"""Static HTML report of a run: reports/index.html (cohort) and reports/<patient_id>.html (one per patient).

`write_report` reports a cross-validated run; `write_predictions_report` reports any predictions table, labelled
(metrics and figures shown) or not (`medtl predict` on new data: probabilities and calls only).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from medtl.explain.save import explain_paths, file_stem
from medtl.report.patients import probability_column, write_patients_table
from medtl.report.plots import confusion_png, data_uri, reliability_png, roc_png
from medtl.report.pseudonymize import pseudonymize_ids

ID_DTYPES = {"case_id": str, "patient_id": str, "label": str}
STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{cursor:pointer;background:#f3f3f3}
figure{display:inline-block;margin:.5em}img{max-width:100%}.case{margin:1.5em 0}.flag{color:#a40000}"""
SORT_SCRIPT = """document.querySelectorAll("th").forEach(th => th.addEventListener("click", () => {
  const body = th.closest("table").tBodies[0], up = th.dataset.order !== "up", i = th.cellIndex;
  const key = row => { const t = row.cells[i].textContent, n = Number(t); return t !== "" && !isNaN(n) ? n : t; };
  th.dataset.order = up ? "up" : "down";
  Array.from(body.rows).sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (up ? 1 : -1))
    .forEach(row => body.appendChild(row));
}));"""


@dataclass(frozen=True)
class CohortSummary:
    """The numbers a report shows about its cohort: read from a run's cv_summary.json by `read_cohort_summary`, or
    made by the caller (AUC fields None where there are no labels).

    Example:
        >>> CohortSummary(positive="nodule", auc=0.9, ci_low=0.8, ci_high=0.95, threshold=0.5).auc
        0.9
    """

    positive: str | None
    auc: float | None
    ci_low: float | None
    ci_high: float | None
    threshold: float
    aggregate: str = "mean"


def read_cohort_summary(summary: dict[str, Any]) -> CohortSummary:
    """The report's one reader of cv_summary.json: every key name it relies on is here; missing ones become None.

    Example:
        >>> read_cohort_summary({"positive": "x", "pooled": {"patient": {"auc": 0.9, "bootstrap_ci": [0.8, 0.97]}}}).ci_low
        0.8
    """
    patient = _walk(summary, "pooled", "patient") or {}
    ci = patient.get("bootstrap_ci") or [None, None]
    threshold = _number(_walk(summary, "confusion", "threshold"))
    return CohortSummary(
        positive=None if summary.get("positive") is None else str(summary["positive"]),
        auc=_number(patient.get("auc")),
        ci_low=_number(ci[0]),
        ci_high=_number(ci[1]),
        threshold=0.5 if threshold is None else threshold,
        aggregate=str(summary.get("aggregate") or "mean"),
    )


def write_report(run_dir: str | Path, pseudonymize_key: str | None = None) -> Path:
    """Write the run's static report into run_dir/reports and return the path of index.html.

    Reads oof_predictions.csv, cv_summary.json and explain/<case_id>.png (embedded in the pages when present).
    Pages carry ids, probabilities and labels only, never names, dates or file paths. With `pseudonymize_key`,
    every patient and case id is replaced by its keyed pseudonym (see `pseudonym`). Earlier pages in reports/
    are removed once the new tables are written, so no page from another run or key stays behind.

    Example:
        >>> write_report("runs/demo", pseudonymize_key="site-secret")  # doctest: +SKIP
        PosixPath('runs/demo/reports/index.html')
    """
    run_dir = Path(run_dir)
    cohort = read_cohort_summary(_read_json(run_dir / "cv_summary.json"))
    pred = _read_predictions(run_dir / "oof_predictions.csv")
    return write_predictions_report(pred, cohort, run_dir, pseudonymize_key)


def write_predictions_report(pred: pd.DataFrame, cohort: CohortSummary, folder: str | Path,
                             pseudonymize_key: str | None = None, note: str | None = None) -> Path:
    """Write the report of a predictions table (`case_id`, `patient_id`, [`fold`], [`label`, `y_true`],
    `p_<class>`) into folder/reports, with the overlays of folder/explain, and return the path of index.html.

    Patients are aggregated and called with `cohort.aggregate` and `cohort.threshold`. Without a `label` column
    the pages show probabilities and calls only: no AUC, no figures, no label. `note` is a sentence shown under
    the title (e.g. which model made the predictions). Ids, pseudonyms and earlier pages as in `write_report`.

    Example:
        >>> cohort = CohortSummary(positive="nodule", auc=None, ci_low=None, ci_high=None, threshold=0.5)
        >>> write_predictions_report(pred, cohort, "runs/final/predict-new")  # doctest: +SKIP
        PosixPath('runs/final/predict-new/reports/index.html')
    """
    folder = Path(folder)
    pred = pred.copy()
    probability = probability_column(pred, cohort.positive)
    positive = probability[len("p_"):]
    pred["overlay"] = [_overlay_uri(folder, case_id) for case_id in pred["case_id"]]
    explain_summary = folder / "explain" / "summary.json"
    saliency = _read_json(explain_summary) if explain_summary.exists() else None
    flags = {c["case_id"]: c.get("degenerate") for c in (saliency or {}).get("cases", [])}
    pred["saliency_flag"] = [flags.get(case_id) for case_id in pred["case_id"]]
    if pseudonymize_key is not None:
        pred = pseudonymize_ids(pred, pseudonymize_key)
    pages = {pid: f"{file_stem(pid)}.html" for pid in pred["patient_id"].unique()}
    if len(set(pages.values())) != len(pages):
        raise ValueError(f"patient ids {sorted(pages)} collide once made safe as file names")
    reports = folder / "reports"
    patients = write_patients_table(pred, reports, cohort.threshold, aggregate_how=cohort.aggregate, positive=positive)
    _remove_earlier_pages(reports)
    for row in patients.to_dict("records"):
        images = pred[pred["patient_id"] == row["patient_id"]]
        (reports / pages[row["patient_id"]]).write_text(_patient_page(row, images, probability), encoding="utf-8")
    index = reports / "index.html"
    index.write_text(_index_page(cohort, patients, pages, positive, saliency, note), encoding="utf-8")
    return index


def _index_page(cohort: CohortSummary, patients: pd.DataFrame, pages: dict[str, str], positive: str,
                saliency: dict[str, Any] | None, note: str | None) -> str:
    extra = [c for c in ("label", "fold") if c in patients]
    rows = "".join(
        f"<tr><td><a href='{escape(pages[r['patient_id']])}'>{escape(r['patient_id'])}</a></td><td>{r['n_images']}</td>"
        f"<td>{r['probability']:.3f}</td><td>{escape(str(r['prediction']))}</td>"
        + "".join(f"<td>{escape(_text(r[c]))}</td>" for c in extra) + "</tr>"
        for r in patients.to_dict("records")
    )
    metrics = ""
    if "label" in patients:
        metrics = f"<p>Patient-level AUC: <b>{_auc_text(cohort)}</b></p>{_figures(patients, positive)}"
    body = (
        f"<h1>Cohort report</h1>{'' if note is None else f'<p>{escape(note)}</p>'}<p>{len(patients)} patients, "
        f"positive class <b>{escape(positive)}</b>, threshold {cohort.threshold:g}, images combined per patient by "
        f"{escape(cohort.aggregate)}.</p>{metrics}{_saliency_section(saliency)}"
        "<h2>Patients</h2><p>Click a column header to sort.</p><table><thead><tr><th>patient</th><th>images</th>"
        "<th>probability</th><th>prediction</th>" + "".join(f"<th>{c}</th>" for c in extra)
        + f"</tr></thead><tbody>{rows}</tbody></table><script>{SORT_SCRIPT}</script>"
    )
    return _page("Cohort report", body)


def _auc_text(cohort: CohortSummary) -> str:
    auc = "not available" if cohort.auc is None else f"{cohort.auc:.3f}"
    if cohort.auc is not None and cohort.ci_low is not None and cohort.ci_high is not None:
        auc += f" (95% CI {cohort.ci_low:.3f}&ndash;{cohort.ci_high:.3f})"
    return auc


def _figures(patients: pd.DataFrame, positive: str) -> str:
    labelled = patients[patients["label"].notna()]
    truth = (labelled["label"] == positive).to_numpy()
    if truth.all() or not truth.any():
        return "<p>Figures need labelled patients of both kinds.</p>"
    classes = sorted(set(labelled["label"]) | set(labelled["prediction"]), key=lambda c: (c == positive, c))
    figures = [
        ("ROC curve with 95% bootstrap band", roc_png(truth, labelled["probability"])),
        ("Reliability", reliability_png(truth, labelled["probability"])),
        ("Confusion matrix", confusion_png(labelled["label"], labelled["prediction"], classes)),
    ]
    return "<h2>Figures</h2>" + "".join(
        f"<figure><img src='{data_uri(png)}' alt='{title}'><figcaption>{title}</figcaption></figure>"
        for title, png in figures
    )


def _saliency_section(saliency: dict[str, Any] | None) -> str:
    if saliency is None:
        return ""
    reasons = "; ".join(f"{kind}: {n}" for kind, n in (saliency.get("degenerate_reasons") or {}).items())
    facts = [
        ("method", saliency.get("method")),
        ("layer explained", saliency.get("target_layer")),
        ("chosen by", saliency.get("chosen_by")),
        ("cases explained", saliency.get("n_cases")),
        ("maps flagged as no evidence (not drawn)", f"{saliency.get('n_degenerate', 0)}"
                                                   + (f" ({reasons})" if reasons else "")),
        ("pointing game hit rate (cases with a lesion mask)", saliency.get("pointing_game_hit_rate")),
        ("pointing game chance rate (mask area share)", saliency.get("pointing_game_chance")),
        ("mean share of saliency inside the lesion", saliency.get("mean_energy_in_mask")),
        ("the same for a uniform map (chance)", saliency.get("energy_in_mask_chance")),
        ("rank correlation with a model whose top layers are re-initialised (low is good)",
         saliency.get("randomization_spearman")),
    ]
    rows = "".join(f"<tr><td>{escape(name)}</td><td>{escape(_text(value))}</td></tr>" for name, value in facts)
    return f"<h2>Saliency checks</h2><table><tbody>{rows}</tbody></table>"


def _patient_page(patient: dict[str, Any], images: pd.DataFrame, probability: str) -> str:
    cases = "".join(_case_block(case, probability) for case in images.to_dict("records"))
    known = "".join(f", {c} {escape(_text(patient[c]))}" for c in ("label", "fold") if c in patient)
    body = (
        f"<p><a href='index.html'>&larr; cohort</a></p><h1>Patient {escape(patient['patient_id'])}</h1>"
        f"<p>Probability {patient['probability']:.3f} ({patient['n_images']} images), prediction "
        f"<b>{escape(str(patient['prediction']))}</b>{known}.</p>{cases}"
    )
    return _page(f"Patient {patient['patient_id']}", body)


def _case_block(case: dict[str, Any], probability: str) -> str:
    label = f", label {escape(_text(case['label']))}" if "label" in case else ""
    overlay = case["overlay"]
    picture = f"<img src='{overlay}' alt='saliency overlay'>" if isinstance(overlay, str) else "<p>No saliency map.</p>"
    flag = case.get("saliency_flag")
    if isinstance(flag, str) and flag:
        picture = f"<p class='flag'>Saliency map not shown: {escape(flag)}.</p>{picture}"
    return (f"<div class='case'><h3>{escape(case['case_id'])}</h3><p>probability {case[probability]:.3f}{label}</p>"
            f"{picture}</div>")


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>\n")


def _overlay_uri(folder: Path, case_id: str) -> str | None:
    png, _ = explain_paths(folder / "explain", case_id)
    return data_uri(png.read_bytes()) if png.exists() else None


def _remove_earlier_pages(reports: Path) -> None:
    for page in reports.glob("*.html"):
        page.unlink()


def _read_predictions(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no out-of-fold predictions; run cross-validation first")
    return pd.read_csv(path, dtype=ID_DTYPES)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: missing; run cross-validation first") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


def _walk(mapping: Any, *keys: str) -> Any:
    for key in keys:
        mapping = mapping.get(key) if isinstance(mapping, dict) else None
    return mapping


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    """A cell as text: empty for missing values, fractional numbers to three decimals."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return f"{value:.3f}" if isinstance(value, float) and not value.is_integer() else str(value)
