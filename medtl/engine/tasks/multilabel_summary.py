"""The multi-label cross-validation summary (a multi-label run's cv_summary.json) and its printed table.

Schema `medtl.multilabel_summary/1`. Images are pooled per patient first (`cv.aggregate`: mean or max of each
finding's probability); a patient has a finding when any of its images has it, lacks it when none has it and
at least one was read, and is missing for it otherwise (left out of that finding's AUC).

    schema, task ("multilabel"), findings, aggregate, ci_level, n_boot, seed
    counts       {"cases", "patients", "folds"}
    per_finding  {finding: {"n_patients", "n_positive", "auc", "delong_ci", "bootstrap_ci",
                  "threshold": Youden point {"threshold", "sensitivity", "specificity"}}}
    macro        {"auc" (mean of the per-finding AUCs), "bootstrap_ci" (resampling patients)}
    folds        [{"fold", "n_patients", "macro_auc"}]
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from medtl.evaluate import bootstrap_auc_ci, delong_auc_ci, youden_point
from medtl.evaluate.auc import _weighted_auc
from medtl.evaluate.bootstrap import cluster_weights, percentile_ci
from medtl.evaluate.summary import without_nan
from medtl.evaluate.tables import format_ci, format_number

SCHEMA = "medtl.multilabel_summary/1"


def patient_findings(pred: pd.DataFrame, findings: list[str], how: str = "mean") -> pd.DataFrame:
    """One row per patient: patient_id, fold (when given), n_images, y_<finding> (max over the images' read
    values, NaN when none was read) and p_<finding> (the images' `how`).

    Example:
        >>> pred = pd.DataFrame({"case_id": list("abc"), "patient_id": ["p", "p", "q"], "y_x": [0.0, 1.0, None],
        ...                      "p_x": [0.2, 0.6, 0.3]})
        >>> patient_findings(pred, ["x"]).to_dict("records")
        [{'patient_id': 'p', 'n_images': 2, 'y_x': 1.0, 'p_x': 0.4}, {'patient_id': 'q', 'n_images': 1, 'y_x': nan, 'p_x': 0.3}]
    """
    if how not in ("mean", "max"):
        raise ValueError(f"cv.aggregate must be mean or max for a multi-label run. Got {how!r} instead.")
    keys = ["patient_id", "fold"] if "fold" in pred else ["patient_id"]
    groups = pred.groupby(keys, sort=True)
    frame = groups.size().rename("n_images").to_frame()
    frame = frame.join(groups[[f"y_{f}" for f in findings]].max()).join(groups[[f"p_{f}" for f in findings]].agg(how))
    return frame.reset_index()


def macro_auc(y: np.ndarray, p: np.ndarray) -> float:
    """The mean over findings (columns) of the AUC on the rows where the finding was read; NaN when none has both
    classes.

    Example:
        >>> macro_auc(np.array([[0, 1], [1, np.nan], [0, 0], [1, 1]]), np.array([[.1, .9], [.8, .5], [.3, .2], [.7, .6]]))
        1.0
    """
    return _macro(y, p)(np.ones(len(y)))


def summarize_multilabel(pred: pd.DataFrame, findings: list[str], aggregate_how: str = "mean", n_boot: int = 2000,
                         seed: int = 0, alpha: float = 0.05) -> dict[str, Any]:
    """The cv_summary.json content for out-of-fold multi-label predictions (columns case_id, patient_id, fold,
    y_<finding>, p_<finding>); schema in this module's docstring.

    Example:
        >>> rng = np.random.default_rng(0); y = rng.integers(0, 2, (12, 2)).astype(float)
        >>> pred = pd.DataFrame({"case_id": list("abcdefghijkl"), "patient_id": list("abcdefghijkl"),
        ...                      "fold": [0, 1] * 6, "y_x": y[:, 0], "y_z": y[:, 1], "p_x": y[:, 0], "p_z": y[:, 1]})
        >>> summarize_multilabel(pred, ["x", "z"], n_boot=20)["macro"]["auc"]
        1.0
    """
    patients = patient_findings(pred, findings, aggregate_how)
    y, p = patients[[f"y_{f}" for f in findings]].to_numpy(float), patients[[f"p_{f}" for f in findings]].to_numpy(float)
    per_finding = {}
    for j, name in enumerate(findings):
        read = ~np.isnan(y[:, j])
        yj, pj, both = y[read, j].astype(int), p[read, j], len(np.unique(y[read, j])) == 2
        per_finding[name] = {
            "n_patients": int(read.sum()), "n_positive": int(yj.sum()),
            "auc": delong_auc_ci(yj, pj, alpha)[0] if both else None,
            "delong_ci": list(delong_auc_ci(yj, pj, alpha)[2:]) if both else None,
            "bootstrap_ci": list(bootstrap_auc_ci(yj, pj, None, n_boot, seed, alpha)) if both else None,
            "threshold": youden_point(yj, pj) if both else None,
        }
    resampled = _macro(y, p)
    folds = [{"fold": int(k), "n_patients": len(rows), "macro_auc": macro_auc(y[rows.index], p[rows.index])}
             for k, rows in patients.groupby("fold")] if "fold" in patients else []
    summary = {
        "schema": SCHEMA, "task": "multilabel", "findings": list(findings), "aggregate": aggregate_how,
        "ci_level": 1 - alpha, "n_boot": n_boot, "seed": seed,
        "counts": {"cases": len(pred), "patients": len(patients), "folds": len(folds)},
        "per_finding": per_finding,
        "macro": {"auc": resampled(np.ones(len(y))),
                  "bootstrap_ci": list(percentile_ci(np.array([resampled(w) for w in
                                                               cluster_weights(None, len(y), n_boot, seed)]), alpha))},
        "folds": folds,
    }
    return without_nan(summary)


def format_multilabel_summary(summary: dict[str, Any]) -> str:
    """A fixed-width table of a `summarize_multilabel` result (what `medtl cv` prints for a multi-label run).

    Example:
        >>> s = {"counts": {"folds": 2, "cases": 8, "patients": 6}, "ci_level": 0.95, "aggregate": "mean",
        ...      "per_finding": {"x": {"n_patients": 6, "n_positive": 3, "auc": 0.75, "bootstrap_ci": [0.5, 1.0],
        ...                            "threshold": {"threshold": 0.4}}}, "macro": {"auc": 0.75, "bootstrap_ci": [0.5, 1.0]}}
        >>> print(format_multilabel_summary(s).splitlines()[0])
        Multi-label cross-validation, 2 folds: 8 cases, 6 patients; patient-level AUC (images pooled by mean)
    """
    counts, ci = summary["counts"], f"{summary['ci_level']:.0%} CI bootstrap"
    lines = [f"Multi-label cross-validation, {counts['folds']} folds: {counts['cases']} cases, {counts['patients']} "
             f"patients; patient-level AUC (images pooled by {summary['aggregate']})", "",
             f"  {'finding':<16}  {'patients':>8}  {'positive':>8}  {'AUC':>6}  {ci:>18}  {'threshold':>9}"]
    for name, entry in summary["per_finding"].items():
        threshold = (entry.get("threshold") or {}).get("threshold")
        lines.append(f"  {name:<16}  {entry['n_patients']:>8}  {entry['n_positive']:>8}  "
                     f"{format_number(entry['auc']):>6}  {format_ci(entry['bootstrap_ci']):>18}  "
                     f"{format_number(threshold):>9}")
    macro = summary["macro"]
    lines.append(f"  {'macro':<16}  {'':>8}  {'':>8}  {format_number(macro['auc']):>6}  "
                 f"{format_ci(macro['bootstrap_ci']):>18}")
    return "\n".join(lines)


def _macro(y: np.ndarray, p: np.ndarray):
    """The macro AUC as a function of row weights (a bootstrap resample), each finding on its read rows."""
    columns = []
    for j in range(y.shape[1]):
        read = ~np.isnan(y[:, j])
        if len(np.unique(y[read, j])) == 2:
            columns.append((read, _weighted_auc(y[read, j].astype(int), p[read, j])))

    def mean_auc(weights: np.ndarray) -> float:
        values = [auc(weights[read]) for read, auc in columns]
        return float(np.nanmean(values)) if values and not np.isnan(values).all() else float("nan")

    return mean_auc
