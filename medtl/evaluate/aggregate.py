"""Prediction tables: validation, and image -> patient (or study) probability aggregation.

One code path serves out-of-fold predictions (with `fold`, `label`, `y_true`) and predictions on new, unlabelled
data (`case_id`, `patient_id`, `p_<class>` only): the optional columns are checked and carried when present.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from medtl.evaluate.leakage import LeakageError
from medtl.evaluate.splits import patient_labels

PREDICTION_COLUMNS = ("case_id", "patient_id", "fold", "label", "y_true")
ID_COLUMNS = ("case_id", "patient_id")
LABEL_COLUMNS = ("label", "y_true")
HOW = ("mean", "max", "noisy_or")
LEVEL_KEYS = {"patient": ("patient_id",), "study": ("patient_id", "study")}
_SUM_TOLERANCE = 1e-4


def prediction_classes(pred: pd.DataFrame, required: tuple[str, ...] = PREDICTION_COLUMNS) -> list[str]:
    """Validate a predictions table and return its classes (the `p_<class>` columns, in order).

    Checks the `required` columns (default: those of out-of-fold predictions, `case_id, patient_id, fold, label,
    y_true`) and `p_<class>...`, that probabilities lie in [0, 1] and sum to 1 per row, that `label` and `y_true`
    come together, and that `y_true` indexes `label` in the class list; errors name the first bad case.

    Example:
        >>> pred = pd.DataFrame({"case_id": ["a"], "patient_id": ["p"], "fold": [0], "label": ["ill"],
        ...                      "y_true": [1], "p_ok": [0.3], "p_ill": [0.7]})
        >>> prediction_classes(pred)
        ['ok', 'ill']
    """
    missing = [c for c in required if c not in pred.columns]
    classes = [c[2:] for c in pred.columns if c.startswith("p_")]
    if missing or len(classes) < 2:
        raise ValueError(f"a predictions table needs columns {list(required)} and p_<class> for at least "
                         f"two classes; missing {missing}, found p_ columns for {classes}")
    half = [c for c in LABEL_COLUMNS if c in pred.columns]
    if len(half) == 1:
        raise ValueError(f"a predictions table needs both {list(LABEL_COLUMNS)} or neither; this one has only {half}")
    probs = pred[[f"p_{c}" for c in classes]].to_numpy(dtype=float)
    bad = ~np.isfinite(probs).all(axis=1) | (probs < 0).any(axis=1) | (probs > 1).any(axis=1)
    bad |= np.abs(probs.sum(axis=1) - 1) > _SUM_TOLERANCE
    _raise_on_first(pred, bad, f"probabilities {', '.join('p_' + c for c in classes)} that are not in [0, 1] or do "
                               "not sum to 1")
    if half:
        _check_y_true(pred, classes)
    return classes


def _check_y_true(pred: pd.DataFrame, classes: list[str]) -> None:
    y_true = pd.to_numeric(pred["y_true"], errors="coerce").to_numpy(dtype=float)
    valid = np.isfinite(y_true) & (y_true >= 0) & (y_true < len(classes)) & (y_true == np.round(y_true))
    named = np.asarray(classes, dtype=object)[np.where(valid, y_true, 0).astype(int)]
    bad_y = ~valid | (named != pred["label"].astype(str).to_numpy())
    _raise_on_first(pred, bad_y, f"a y_true that is not the index of its label in {classes}")


def _raise_on_first(pred: pd.DataFrame, bad: np.ndarray, what: str) -> None:
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"predictions row {row} (case {pred['case_id'].iloc[row]!r}) has {what}")


def aggregate(pred: pd.DataFrame, how: str = "mean", level: str = "patient",
              positive: str | None = None) -> pd.DataFrame:
    """Combine image (or series) probabilities into one row per patient (or per study), for out-of-fold
    predictions and for predictions on new data alike: only `case_id`, `patient_id` and `p_<class>` are needed.

    - binary: `how` applies to the positive class (default: the second class) and the other class gets the
      complement; `noisy_or` is 1 - prod(1 - p), the chance that at least one image is positive.
    - multi-class: `mean` / `max` per class, then rows renormalised to sum to 1; `noisy_or` is refused.
    When the table has labels, a patient's reference label follows `patient_labels`; when it has folds, all rows
    of a patient must share one fold.

    Returns columns `patient_id`, [`study`], [`fold`], [`label`, `y_true`], `n_images`, `p_<class>`...

    Example:
        >>> pred = pd.DataFrame({"case_id": ["a", "b"], "patient_id": ["p", "p"], "fold": [0, 0],
        ...                      "label": ["ill", "ill"], "y_true": [1, 1], "p_ok": [0.8, 0.4], "p_ill": [0.2, 0.6]})
        >>> aggregate(pred, how="max")[["patient_id", "n_images", "p_ill"]].to_dict("records")
        [{'patient_id': 'p', 'n_images': 2, 'p_ill': 0.6}]
    """
    if how not in HOW:
        raise ValueError(f"how must be a str among {list(HOW)}. Got {how!r} instead.")
    if level not in LEVEL_KEYS:
        raise ValueError(f"level must be a str among {list(LEVEL_KEYS)}. Got {level!r} instead.")
    classes = prediction_classes(pred, required=ID_COLUMNS)
    labelled = "label" in pred
    if labelled:
        pred = pred.assign(label=pred["label"].astype(str))
    keys = list(LEVEL_KEYS[level])
    if "study" in keys and "study" not in pred:
        raise ValueError("level='study' needs a 'study' column in the predictions table")
    columns = [f"p_{c}" for c in classes]
    grouped = pred.groupby(keys, sort=True)
    if "fold" in pred:
        _check_one_fold(grouped["fold"].nunique(), keys)
    positive = resolve_positive(classes, positive)
    if positive is not None:
        other = classes[1 - classes.index(positive)]
        pooled = _pool(pred, keys, [f"p_{positive}"], how)
        pooled[f"p_{other}"] = 1.0 - pooled[f"p_{positive}"]
        pooled = pooled[columns]
    elif how == "noisy_or":
        raise ValueError(f"noisy_or combines independent binary findings; this table has {len(classes)} mutually "
                         f"exclusive classes {classes}: use how='mean' or 'max'")
    else:
        pooled = _pool(pred, keys, columns, how)
        pooled = pooled.div(pooled.sum(axis=1), axis=0)
    out = pd.DataFrame(index=pooled.index)
    if "fold" in pred:
        out["fold"] = grouped["fold"].first().astype(int)
    if labelled:
        out["label"] = patient_labels(pred, tuple(keys))
        out["y_true"] = out["label"].map({c: i for i, c in enumerate(classes)}).astype(int)
    out["n_images"] = grouped.size()
    return out.join(pooled).reset_index()


def resolve_positive(classes: list[str], positive: str | None) -> str | None:
    """The positive class of a binary problem (default: the second class); None for a multi-class problem.

    Example:
        >>> resolve_positive(["normal", "pneumonia"], None), resolve_positive(["a", "b", "c"], None)
        ('pneumonia', None)
    """
    if len(classes) == 2:
        positive = classes[1] if positive is None else positive
        if positive not in classes:
            raise ValueError(f"positive class {positive!r} is not one of the classes {classes}")
        return positive
    if positive is not None:
        raise ValueError(f"positive applies to binary problems; this one has {len(classes)} classes {classes}")
    return None


def auc_inputs(frame: pd.DataFrame, classes: list[str], positive: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(y, scores) of a predictions or aggregated table in the conventions of `medtl.evaluate.auc`: binary gives
    0/1 and the positive class's probability, multi-class gives class indices and the probability matrix.

    Example:
        >>> frame = pd.DataFrame({"label": ["ok", "ill"], "y_true": [0, 1], "p_ok": [.9, .2], "p_ill": [.1, .8]})
        >>> y, s = auc_inputs(frame, ["ok", "ill"], "ill"); y.tolist(), s.tolist()
        ([0, 1], [0.1, 0.8])
    """
    if positive is not None:
        y = frame["y_true"].to_numpy(dtype=int) == classes.index(positive)
        return y.astype(int), frame[f"p_{positive}"].to_numpy(dtype=float)
    return frame["y_true"].to_numpy(dtype=int), frame[[f"p_{c}" for c in classes]].to_numpy(dtype=float)


def _pool(pred: pd.DataFrame, keys: list[str], columns: list[str], how: str) -> pd.DataFrame:
    if how == "noisy_or":
        return 1.0 - (1.0 - pred[columns]).groupby([pred[k] for k in keys], sort=True).prod()
    return pred.groupby(keys, sort=True)[columns].agg(how)


def _check_one_fold(folds_per_group: pd.Series, keys: list[str]) -> None:
    spread = folds_per_group[folds_per_group > 1]
    if len(spread):
        raise LeakageError(f"{keys[-1]} {spread.index[0]!r} has predictions from {int(spread.iloc[0])} different "
                           "folds; every image of a patient must be held out in the same fold")
