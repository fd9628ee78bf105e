"""The tidy predictions table of a classifier (one row per case, one probability column per class)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from medtl.data.case_table import CaseTable


def prediction_frame(table: CaseTable, rows: np.ndarray, proba: np.ndarray, classes: list[str], fold: int) -> pd.DataFrame:
    """The tidy predictions table: case_id, patient_id, fold, label, y_true, p_<class>.

    Example:
        >>> prediction_frame(table, np.arange(2), np.full((2, 2), 0.5), ["normal", "nodule"], 0)  # doctest: +SKIP
    """
    cases = table.df.iloc[rows]
    frame = pd.DataFrame({"case_id": cases["case_id"].to_numpy(), "patient_id": cases["patient_id"].to_numpy(),
                          "fold": fold})
    if "label" in cases:
        frame["label"] = cases["label"].to_numpy()
        frame["y_true"] = [classes.index(v) if v in classes else -1 for v in cases["label"]]
    for i, name in enumerate(classes):
        frame[f"p_{name}"] = proba[:, i]
    return frame
