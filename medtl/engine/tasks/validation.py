"""Inner validation of a classifier: patients held out of its training set, and their patient-level AUC after
every epoch (see `medtl.engine.training.selection` for what the loop does with it)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from torch import nn
from torch.utils.data import Dataset

from medtl.data.case_table import CaseTable
from medtl.engine.training.loop import predict_proba
from medtl.engine.tasks.predictions import prediction_frame
from medtl.engine.training.selection import Validation, best_row
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.evaluate import aggregate, auc_inputs, auc_value, inner_split


def validation_rows(table: CaseTable, rows: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows to fit on, rows to validate on): `fraction` of the patients of `rows` held out, grouped by patient
    and stratified by label (`medtl.evaluate.inner_split`); fraction 0 keeps every row for fitting.

    Example:
        >>> fit, check = validation_rows(table, np.arange(len(table)), 0.2, seed=0)  # doctest: +SKIP
    """
    rows = np.asarray(rows)
    if fraction == 0:
        return rows, rows[:0]
    patients = table.df["patient_id"].iloc[rows]
    _, held_out = inner_split(table, sorted(patients.unique()), seed=seed, val_fraction=fraction)
    in_validation = patients.isin(held_out).to_numpy()
    return rows[~in_validation], rows[in_validation]


def auc_validation(data: Dataset, settings: TrainSettings, table: CaseTable, rows: np.ndarray, classes: list[str],
                   positive: str | None, how: str) -> Validation:
    """"val_auc": the patient-level AUC on `data`, the cases at `rows` of `table` (image probabilities pooled
    per patient with `how`, as `cv.aggregate` does for the reported results).

    Example:
        >>> check = auc_validation(cache.subset(rows, pipes.eval), settings, table, rows, ["normal", "nodule"],
        ...                        "nodule", "mean")  # doctest: +SKIP
        >>> check.measure(model)                      # doctest: +SKIP
        0.87
    """
    def patient_auc(model: nn.Module) -> float:
        frame = prediction_frame(table, rows, predict_proba(model, data, settings), classes, fold=0)
        patients = aggregate(frame, how=how, positive=positive)
        return auc_value(*auc_inputs(patients, classes, positive))

    return Validation("val_auc", patient_auc)


def best_epoch_note(history: pd.DataFrame) -> str:
    """A few words on the best validation epoch of a training history, or "" without validation.

    Example:
        >>> best_epoch_note(pd.DataFrame({"epoch": [1, 2, 3, 4], "val_auc": [0.7, 0.9, 0.9, 0.8]}))
        ', best val_auc 0.900 at epoch 3'
    """
    columns = [c for c in history.columns if c.startswith("val_")]
    if not columns or history[columns[0]].isna().all():
        return ""
    best = best_row(history[columns[0]])
    return f", best {columns[0]} {history[columns[0]][best]:.3f} at epoch {int(history['epoch'][best])}"
