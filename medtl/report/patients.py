"""One row per patient from per-image predictions: reports/patients.csv and reports/patients.json."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from medtl.evaluate.aggregate import HOW, aggregate

PATIENT_COLUMNS = ["patient_id", "n_images", "probability", "prediction", "label", "fold"]


def probability_column(pred: pd.DataFrame, positive: str | None = None) -> str:
    """The `p_<class>` column holding the positive class's probability.

    Without `positive`, a table with a single `p_` column uses it; otherwise `positive` must be named.

    Example:
        >>> probability_column(pd.DataFrame({"p_normal": [0.2], "p_nodule": [0.8]}), "nodule")
        'p_nodule'
    """
    columns = [c for c in pred.columns if str(c).startswith("p_")]
    if positive is None and len(columns) == 1:
        return columns[0]
    if positive is None:
        raise ValueError(f"predictions have columns {columns}; say which class is positive")
    if f"p_{positive}" not in columns:
        raise ValueError(f"positive class {positive!r} has no column p_{positive}; the predictions have {columns}")
    return f"p_{positive}"


def patient_table(
    pred: pd.DataFrame, threshold: float = 0.5, aggregate_how: str = "mean", positive: str | None = None
) -> pd.DataFrame:
    """Per-patient probability of the positive class and the call at `threshold`; columns `PATIENT_COLUMNS`,
    less `label` and `fold` when the predictions have none (new, unlabelled data).

    Images are combined by `medtl.evaluate.aggregate` (the same rule the metrics use, so the report and
    cv_summary.json agree); a patient's label follows `medtl.evaluate.patient_labels`. A patient whose images
    sit in different folds is refused: that would be leakage.

    Example:
        >>> pred = pd.DataFrame({"case_id": ["a", "b", "c"], "patient_id": ["p1", "p1", "p2"], "fold": [0, 0, 1],
        ...                      "label": ["yes", "yes", "no"], "y_true": [0, 0, 1],
        ...                      "p_yes": [0.9, 0.5, 0.1], "p_no": [0.1, 0.5, 0.9]})
        >>> patient_table(pred, threshold=0.5, positive="yes")[["patient_id", "probability", "prediction", "label"]].values.tolist()
        [['p1', 0.7, 'yes', 'yes'], ['p2', 0.1, 'no', 'no']]
    """
    if aggregate_how not in HOW:
        raise ValueError(f"aggregate_how must be a str among {set(HOW)}. Got {aggregate_how!r} instead.")
    column = probability_column(pred, positive)
    positive_class = column[len("p_"):]
    binary = len([c for c in pred.columns if str(c).startswith("p_")]) == 2
    table = aggregate(pred, how=aggregate_how, positive=positive_class if binary else None)
    negative = _negative_name(pred, positive_class)
    table["probability"] = table[column]
    table["prediction"] = [positive_class if p >= threshold else negative for p in table["probability"]]
    return table[[c for c in PATIENT_COLUMNS if c in table]]


def write_patients_table(
    pred: pd.DataFrame, out_dir: str | Path, threshold: float, aggregate_how: str = "mean", positive: str | None = None
) -> pd.DataFrame:
    """Write `patient_table(...)` to out_dir/patients.csv and out_dir/patients.json (a list of records).

    Example:
        >>> write_patients_table(pred, run / "reports", threshold=0.5, positive="nodule")  # doctest: +SKIP
    """
    table = patient_table(pred, threshold, aggregate_how, positive)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / "patients.csv", index=False)
    table.to_json(out_dir / "patients.json", orient="records", indent=2)
    return table


def _negative_name(pred: pd.DataFrame, positive_class: str) -> str:
    others = [str(c)[len("p_"):] for c in pred.columns if str(c).startswith("p_") and str(c) != f"p_{positive_class}"]
    return others[0] if len(others) == 1 else f"not {positive_class}"
