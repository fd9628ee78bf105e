"""Cohort figures as PNG bytes: ROC curve with a bootstrap band, reliability curve, confusion matrix."""
from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from sklearn.calibration import CalibrationDisplay
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay

from medtl.explain.overlay import figure_png

FIGURE_INCHES = (4.0, 4.0)


def roc_png(y_true: Sequence[bool], probability: Sequence[float], n_boot: int = 1000, seed: int = 0) -> bytes:
    """ROC curve of patient-level predictions with a 95% band from resampling patients with replacement.

    Example:
        >>> roc_png([0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9])[:4]
        b'\\x89PNG'
    """
    y_true, probability = np.asarray(y_true, dtype=int), np.asarray(probability, dtype=float)
    figure = Figure(figsize=FIGURE_INCHES)
    axes = figure.add_subplot()
    # scikit-learn has no ROC confidence band: TPR is bootstrapped over patients on a fixed FPR grid.
    grid = np.linspace(0.0, 1.0, 101)
    rng = np.random.default_rng(seed)
    curves = []
    for _ in range(n_boot):
        sample = rng.integers(0, len(y_true), len(y_true))
        if y_true[sample].min() == y_true[sample].max():
            continue
        fpr, tpr = roc_rates(y_true[sample], probability[sample])
        curves.append(np.interp(grid, fpr, tpr))
    if curves:
        low, high = np.percentile(curves, [2.5, 97.5], axis=0)
        axes.fill_between(grid, low, high, alpha=0.25, label="95% bootstrap band")
    RocCurveDisplay.from_predictions(y_true, probability, ax=axes, name="patients", plot_chance_level=True)
    axes.set(title="ROC (patient level)", xlabel="1 - specificity", ylabel="sensitivity")
    return figure_png(figure)


def roc_rates(y_true: np.ndarray, probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates of scikit-learn's `roc_curve` (0/1 labels of both classes), without its input
    checks, which would take most of the bootstrap's time.

    Example:
        >>> roc_rates(np.array([0, 1, 0, 1]), np.array([0.2, 0.7, 0.4, 0.9]))
        (array([0., 0., 0., 1.]), array([0. , 0.5, 1. , 1. ]))
    """
    order = np.argsort(probability, kind="mergesort")[::-1]
    last = np.r_[np.flatnonzero(np.diff(probability[order])), len(order) - 1]  # last case of each probability
    tps = np.cumsum(y_true[order])[last]
    fps = last + 1 - tps
    if len(fps) > 2:  # as roc_curve(drop_intermediate=True)
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps = fps[keep], tps[keep]
    fps, tps = np.r_[0, fps], np.r_[0, tps]
    return fps / fps[-1], tps / tps[-1]


def reliability_png(y_true: Sequence[bool], probability: Sequence[float], n_bins: int = 5) -> bytes:
    """Reliability curve: observed share of positives against mean predicted probability, per probability bin.

    Example:
        >>> reliability_png([0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9])[:4]
        b'\\x89PNG'
    """
    figure = Figure(figsize=FIGURE_INCHES)
    axes = figure.add_subplot()
    CalibrationDisplay.from_predictions(np.asarray(y_true, dtype=int), np.asarray(probability, dtype=float),
                                        n_bins=n_bins, ax=axes, name="patients")
    axes.set(title="Reliability (patient level)", xlabel="mean predicted probability", ylabel="share of positives")
    return figure_png(figure)


def confusion_png(labels: Sequence[str], predictions: Sequence[str], classes: Sequence[str]) -> bytes:
    """Confusion matrix of patient labels (rows) against predictions (columns), as counts.

    Example:
        >>> confusion_png(["a", "b"], ["a", "a"], ["a", "b"])[:4]
        b'\\x89PNG'
    """
    figure = Figure(figsize=FIGURE_INCHES)
    axes = figure.add_subplot()
    ConfusionMatrixDisplay.from_predictions(list(labels), list(predictions), labels=list(classes), ax=axes,
                                            colorbar=False)
    axes.set_title("Confusion matrix (patients)")
    return figure_png(figure)


def data_uri(png: bytes) -> str:
    """A PNG as a `data:` URI, so an HTML page carries its pictures inside itself.

    Example:
        >>> data_uri(b"abc")
        'data:image/png;base64,YWJj'
    """
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
