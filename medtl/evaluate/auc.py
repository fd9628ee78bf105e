"""ROC AUC (scikit-learn) for binary, multi-class one-vs-rest and multi-label problems, with patient-bootstrap CIs.

Score conventions shared by every function here:
- `scores` 1-D: binary, the score of the positive class; `y` is 0/1.
- `scores` 2-D (n, k) with `y` 1-D: `y` holds class indices; k == 2 is binary (column 1 is the positive class),
  k > 2 is multi-class, summarised by the macro average of the one-vs-rest AUCs.
- `y` 2-D indicator (n, k): multi-label, macro average of the per-label AUCs.
A class absent from `y` (or from a bootstrap resample) makes its AUC undefined: NaN, never an error.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import roc_auc_score

from medtl.evaluate.bootstrap import cluster_weights, percentile_ci


def auc(y_true: np.ndarray, scores: np.ndarray, classes: list[str]) -> dict:
    """Overall AUC (binary, or macro one-vs-rest) and each class's one-vs-rest AUC.

    Returns `{"auc": float, "per_class": {class: float}}`; `auc` is NaN when some class is absent.

    Example:
        >>> auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]), ["ok", "ill"])["auc"]
        0.75
    """
    indicator, matrix = _one_vs_rest(np.asarray(y_true), np.asarray(scores, dtype=float))
    expected = 2 if matrix.shape[1] == 1 else matrix.shape[1]
    if len(classes) != expected:
        raise ValueError(f"scores have {matrix.shape[1]} column(s) but {len(classes)} classes were named: {classes}")
    if matrix.shape[1] == 1:
        value = _binary_auc(indicator[:, 0], matrix[:, 0])
        return {"auc": value, "per_class": {classes[0]: value, classes[1]: value}}
    per_class = {c: _binary_auc(indicator[:, j], matrix[:, j]) for j, c in enumerate(classes)}
    return {"auc": auc_value(y_true, scores), "per_class": per_class}


def auc_value(y_true: np.ndarray, scores: np.ndarray) -> float:
    """The single summary AUC: binary, or the macro average of the one-vs-rest / per-label AUCs.

    Example:
        >>> auc_value(np.array([0, 1, 2]), np.eye(3))
        1.0
    """
    y_true = np.asarray(y_true)
    indicator, matrix = _one_vs_rest(y_true, np.asarray(scores, dtype=float))
    return float(np.mean([_binary_auc(indicator[:, j], matrix[:, j]) for j in _summary_columns(y_true, matrix)]))


def bootstrap_auc_ci(y: np.ndarray, p: np.ndarray, groups: np.ndarray | None, n_boot: int = 2000, seed: int = 0,
                     alpha: float = 0.05) -> tuple[float, float]:
    """Percentile CI of the summary AUC from resampling clusters (patients) with replacement; `groups=None`
    resamples rows. Resamples lacking a class are skipped.

    Example:
        >>> y = np.array([0, 0, 1, 1, 0, 1]); p = np.array([0.2, 0.6, 0.5, 0.9, 0.1, 0.7])
        >>> lo, hi = bootstrap_auc_ci(y, p, groups=np.array([1, 1, 2, 2, 3, 3]), n_boot=200)
        >>> 0 <= lo <= hi <= 1
        True
    """
    resampled = _weighted_auc(y, p)
    values = [resampled(w) for w in cluster_weights(groups, len(y), n_boot, seed)]
    return percentile_ci(np.array(values), alpha)


def paired_bootstrap_diff(y: np.ndarray, p_a: np.ndarray, p_b: np.ndarray, groups: np.ndarray | None,
                          n_boot: int = 2000, seed: int = 0, alpha: float = 0.05) -> tuple[float, float, float]:
    """AUC(a) - AUC(b) on the same cases, with a percentile CI from resampling the same clusters for both.

    Example:
        >>> y = np.array([0, 0, 1, 1]); a = np.array([0.1, 0.2, 0.8, 0.9]); b = np.array([0.5, 0.2, 0.4, 0.9])
        >>> paired_bootstrap_diff(y, a, b, groups=None, n_boot=100)[0]
        0.25
    """
    resampled_a, resampled_b = _weighted_auc(y, p_a), _weighted_auc(y, p_b)
    values = [resampled_a(w) - resampled_b(w) for w in cluster_weights(groups, len(y), n_boot, seed)]
    lo, hi = percentile_ci(np.array(values), alpha)
    return auc_value(y, p_a) - auc_value(y, p_b), lo, hi


def _weighted_auc(y: np.ndarray, scores: np.ndarray) -> Callable[[np.ndarray], float]:
    """The summary AUC as a function of row weights (a bootstrap resample), equal to `auc_value` at unit weights.

    Written by hand (Mann-Whitney form: weighted pairs ranked correctly, ties counting half): the scores stay
    fixed across resamples, so they are ranked once here instead of in each of thousands of `roc_auc_score` calls.
    """
    y = np.asarray(y)
    indicator, matrix = _one_vs_rest(y, np.asarray(scores, dtype=float))
    columns = []
    for j in _summary_columns(y, matrix):
        _, rank = np.unique(matrix[:, j], return_inverse=True)
        columns.append((indicator[:, j].astype(float), rank, int(rank.max()) + 1))

    def summary_auc(weights: np.ndarray) -> float:
        values = []
        for positive, rank, n_ranks in columns:
            w_pos = np.bincount(rank, weights=weights * positive, minlength=n_ranks)
            w_neg = np.bincount(rank, weights=weights * (1.0 - positive), minlength=n_ranks)
            pairs = w_pos.sum() * w_neg.sum()
            below = np.cumsum(w_neg) - w_neg
            values.append(float(w_pos @ (below + 0.5 * w_neg)) / pairs if pairs else float("nan"))
        return float(np.mean(values))

    return summary_auc


def _summary_columns(y: np.ndarray, matrix: np.ndarray) -> list[int]:
    """The one-vs-rest columns averaged into the summary AUC: only the positive column of a binary problem."""
    return [1] if matrix.shape[1] == 2 and y.ndim == 1 else list(range(matrix.shape[1]))


def _one_vs_rest(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indicator, scores) with one column per class scored one-vs-rest."""
    if len(y) != len(scores):
        raise ValueError(f"y has {len(y)} entries but scores have {len(scores)} rows")
    if scores.ndim == 1:
        return y.reshape(-1, 1).astype(bool), scores.reshape(-1, 1)
    if y.ndim == 2:
        return y.astype(bool), scores
    return y[:, None] == np.arange(scores.shape[1]), scores


def _binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    if positive.all() or not positive.any():
        return float("nan")
    return float(roc_auc_score(positive, score))
