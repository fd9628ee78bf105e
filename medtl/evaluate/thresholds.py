"""Operating points on the ROC curve (scikit-learn `roc_curve`): Youden's J and a fixed specificity, and the
confusion matrix at a threshold. A case is called positive when its score is >= the threshold."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix, roc_curve


def youden_point(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """The threshold maximising sensitivity + specificity - 1 (Youden's J), with its sensitivity/specificity.

    Example:
        >>> youden_point(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
        {'threshold': 0.8, 'sensitivity': 0.5, 'specificity': 1.0}
    """
    fpr, tpr, thresholds = _roc(y, p)
    best = int(np.argmax(tpr - fpr))
    return _point(fpr, tpr, thresholds, best)


def point_at_specificity(y: np.ndarray, p: np.ndarray, specificity: float = 0.9) -> dict[str, float]:
    """The most sensitive threshold whose specificity is at least `specificity`.

    Example:
        >>> point_at_specificity(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]), specificity=0.5)
        {'threshold': 0.35, 'sensitivity': 1.0, 'specificity': 0.5, 'target_specificity': 0.5}
    """
    if not 0 <= specificity <= 1:
        raise ValueError(f"specificity must be between 0 and 1; got {specificity}")
    fpr, tpr, thresholds = _roc(y, p)
    allowed = np.flatnonzero(fpr <= 1 - specificity + 1e-12)
    best = int(allowed[np.argmax(tpr[allowed])])
    return {**_point(fpr, tpr, thresholds, best), "target_specificity": float(specificity)}


def confusion_at(y: np.ndarray, p: np.ndarray, threshold: float) -> np.ndarray:
    """The 2x2 confusion matrix [[TN, FP], [FN, TP]] when cases with score >= threshold are called positive.

    Example:
        >>> confusion_at(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]), 0.4).tolist()
        [[1, 1], [1, 1]]
    """
    called = (np.asarray(p, dtype=float) >= threshold).astype(int)
    return confusion_matrix(np.asarray(y).astype(int), called, labels=[0, 1])


def _roc(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y).astype(int)
    if len(np.unique(y)) != 2:
        raise ValueError("operating points need both positive and negative cases; only one class is present")
    fpr, tpr, thresholds = roc_curve(y, np.asarray(p, dtype=float))
    # roc_curve's first threshold is +inf ("call nothing positive"); keep it finite for JSON, same meaning.
    thresholds[0] = np.nextafter(thresholds[1], np.inf)
    return fpr, tpr, thresholds


def _point(fpr: np.ndarray, tpr: np.ndarray, thresholds: np.ndarray, i: int) -> dict[str, float]:
    return {"threshold": float(thresholds[i]), "sensitivity": float(tpr[i]), "specificity": float(1 - fpr[i])}
