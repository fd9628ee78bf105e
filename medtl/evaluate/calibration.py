"""Calibration: Brier score and the reliability curve (scikit-learn `brier_score_loss`, `calibration_curve`)."""
from __future__ import annotations

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss


def brier(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Brier score of an (n, k) probability matrix against class indices `y_true` (lower is better).

    Binary (k = 2): mean squared error of the positive-class probability (0 = perfect, 0.25 = coin flip).
    Multi-class: Brier's original score, the squared errors summed over classes, averaged over cases (0 to 2).

    Example:
        >>> brier(np.array([0, 1]), np.array([[0.8, 0.2], [0.4, 0.6]]))
        0.1
    """
    probs = np.asarray(probs, dtype=float)
    y_true = np.asarray(y_true).astype(int)
    if probs.shape[1] == 2:
        return float(brier_score_loss(y_true, probs[:, 1], pos_label=1))
    return float(brier_score_loss(y_true, probs, labels=list(range(probs.shape[1]))))


def reliability(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> dict:
    """The reliability curve of binary probabilities over `n_bins` equal-width bins (empty bins are dropped).

    Returns `{"n_bins", "mean_predicted": [...], "fraction_positive": [...]}`, one entry per non-empty bin.

    Example:
        >>> reliability(np.array([0, 0, 1, 1]), np.array([0.0, 0.2, 0.8, 1.0]), n_bins=2)
        {'n_bins': 2, 'mean_predicted': [0.1, 0.9], 'fraction_positive': [0.0, 1.0]}
    """
    fraction, mean_predicted = calibration_curve(np.asarray(y).astype(int), np.asarray(p, dtype=float),
                                                 n_bins=n_bins, strategy="uniform")
    return {"n_bins": n_bins, "mean_predicted": mean_predicted.tolist(), "fraction_positive": fraction.tolist()}
