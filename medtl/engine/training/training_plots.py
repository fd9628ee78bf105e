"""Training figures written beside their CSVs: history.png (loss and validation metric per epoch) and
lr_find.png (loss against learning rate)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from medtl.engine.training.selection import best_row


def plot_history(history: pd.DataFrame, path: str | Path) -> Path:
    """Draw training loss against epoch and, when the history has one, the validation metric (val_auc or
    val_dice) on a second axis with its best epoch marked; write the PNG to `path`.

    Example:
        >>> plot_history(pd.DataFrame({"epoch": [1, 2], "loss": [0.7, 0.5], "val_auc": [0.6, 0.8]}),
        ...              "runs/exp/fold_0/history.png")  # doctest: +SKIP
        PosixPath('runs/exp/fold_0/history.png')
    """
    figure = Figure(figsize=(5.0, 3.2))
    loss_axes = figure.add_subplot()
    loss_axes.plot(history["epoch"], history["loss"], "o-", color="tab:blue", label="training loss")
    loss_axes.set_xlabel("epoch")
    loss_axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    loss_axes.set_ylabel("training loss", color="tab:blue")
    metrics = [c for c in history.columns if c.startswith("val_")]
    if metrics and history[metrics[0]].notna().any():
        name = metrics[0]
        metric_axes = loss_axes.twinx()
        metric_axes.plot(history["epoch"], history[name], "s-", color="tab:orange", label=name)
        best = best_row(history[name])
        metric_axes.plot(history["epoch"][best], history[name][best], "*", color="tab:red", markersize=14,
                         label=f"best ({name} {history[name][best]:.3f})")
        metric_axes.set_ylabel(name, color="tab:orange")
        metric_axes.legend(loc="lower right", fontsize="small")
    loss_axes.set_title("training history")
    return _save(figure, path)


def plot_lr_find(lrs: Sequence[float], losses: Sequence[float], marks: Mapping[str, float], path: str | Path) -> Path:
    """Draw the (smoothed) loss of a learning-rate sweep against the learning rate on a log axis, with a
    vertical line at each of `marks` (label: learning rate); write the PNG to `path`.

    Example:
        >>> plot_lr_find([1e-5, 1e-3, 1e-1], [0.7, 0.4, 2.0], {"steepest descent": 1e-4}, "lr_find.png")  # doctest: +SKIP
        PosixPath('lr_find.png')
    """
    figure = Figure(figsize=(5.0, 3.2))
    axes = figure.add_subplot()
    axes.plot(lrs, losses, color="tab:blue")
    axes.set_xscale("log")
    axes.set_xlabel("learning rate")
    axes.set_ylabel("loss (smoothed)")
    finite = np.asarray(losses, dtype=float)[np.isfinite(losses)]
    if len(finite):  # losses past divergence would squash the useful part of the curve
        low, high = finite.min(), min(finite.max(), 4 * finite[0])
        pad = 0.05 * (high - low) or 0.05
        axes.set_ylim(low - pad, high + pad)
    for (label, lr), color in zip(marks.items(), ("tab:red", "tab:green", "tab:purple")):
        axes.axvline(lr, color=color, linestyle="--", label=f"{label} {lr:.1e}")
    axes.legend(fontsize="small")
    axes.set_title("learning-rate range test")
    return _save(figure, path)


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    return path
