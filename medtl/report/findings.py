"""The per-patient report of a multi-label run: every finding of every patient, with its probability, the call
at the finding's threshold and the reference."""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd


def findings_table(patients: pd.DataFrame, thresholds: dict[str, float | None]) -> pd.DataFrame:
    """One row per patient: patient_id, [fold], n_images, then per finding `<finding>_probability`,
    `<finding>_call` ("present" / "absent" at the finding's threshold, "" without one) and `<finding>_reference`
    ("present" / "absent" / "" when not read).

    Example:
        >>> patients = pd.DataFrame({"patient_id": ["p"], "n_images": [1], "y_x": [1.0], "p_x": [0.7]})
        >>> findings_table(patients, {"x": 0.5}).to_dict("records")
        [{'patient_id': 'p', 'n_images': 1, 'x_probability': 0.7, 'x_call': 'present', 'x_reference': 'present'}]
    """
    table = patients[[c for c in ("patient_id", "fold", "n_images") if c in patients]].copy()
    for name, threshold in thresholds.items():
        p, y = patients[f"p_{name}"], patients[f"y_{name}"]
        table[f"{name}_probability"] = p.round(4)
        table[f"{name}_call"] = "" if threshold is None else np.where(p >= threshold, "present", "absent")
        table[f"{name}_reference"] = np.select([y == 1, y == 0], ["present", "absent"], "")
    return table


def write_findings_report(patients: pd.DataFrame, thresholds: dict[str, float | None], folder: str | Path) -> Path:
    """Write `folder`/patients.csv and `folder`/patients.html (the `findings_table`); returns the HTML page.

    Example:
        >>> write_findings_report(patient_findings(oof, ["x", "z"]), {"x": 0.4, "z": 0.6}, "runs/ml/reports")  # doctest: +SKIP
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table = findings_table(patients, thresholds)
    table.to_csv(folder / "patients.csv", index=False)
    page = folder / "patients.html"
    listed = ", ".join(f"{html.escape(name)} (threshold {'-' if t is None else f'{t:.3f}'})"
                       for name, t in thresholds.items())
    page.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>Findings per patient</title></head>"
                    f"<body><h1>Findings per patient</h1><p>Out-of-fold probabilities, each finding called at its "
                    f"own threshold (Youden point of its patient-level ROC): {listed}.</p>"
                    f"{table.to_html(index=False, escape=True, na_rep='')}</body></html>")
    return page
