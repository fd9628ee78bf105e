"""Validation during training: a metric measured after every epoch on held-out patients, the best epoch's
weights kept, and early stopping when the metric stops improving."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch
import torch.distributed as dist
from torch import nn

from medtl.engine.training.distributed import is_distributed, sync_buffers


@dataclass(frozen=True)
class Validation:
    """A metric of the model on held-out data, higher being better; `name` is its history column.

    Example:
        >>> Validation("val_auc", lambda model: 0.5).compute(nn.Linear(1, 1))
        0.5
    """

    name: str
    compute: Callable[[nn.Module], float]

    def measure(self, model: nn.Module) -> float:
        """The metric after an epoch. Under DDP every rank first takes rank 0's BatchNorm statistics and then
        rank 0's value, so all ranks select and stop alike."""
        sync_buffers(model)
        value = [float(self.compute(model))]
        if is_distributed():
            dist.broadcast_object_list(value, src=0)
        return value[0]


def best_row(metric: pd.Series) -> Any:
    """The index of the epoch `ModelSelection` keeps for a history's metric column: the last of its highest
    values (NaN never counts).

    Example:
        >>> best_row(pd.Series([0.7, 1.0, 1.0, 0.9]))
        2
    """
    return metric[::-1].idxmax()


class ModelSelection:
    """The best validation epoch so far (its 1-based number, metric and a CPU copy of its weights) and the
    number of epochs since the metric last improved, for early stopping after `patience` epochs without
    improvement (None: never). A NaN metric never counts as an improvement.

    An epoch that ties the best metric becomes the best epoch, without counting as an improvement: on the small
    validation sets of few-label tasks the AUC often reaches 1.0 within an epoch or two and stays there, and the
    first such epoch is then barely trained. Among equally scored epochs the latest is kept, as training without
    validation keeps the last.

    Example:
        >>> selection, model = ModelSelection(patience=2), nn.Linear(1, 1)
        >>> [selection.record(auc, epoch, model) for epoch, auc in enumerate([0.7, 0.9, 0.9, 0.8], start=1)]
        [True, True, True, False]
        >>> selection.best_epoch, selection.stale_epochs, selection.should_stop
        (3, 2, True)
    """

    def __init__(self, patience: int | None):
        self.patience = patience
        self.best_metric = math.nan
        self.best_epoch = 0
        self.stale_epochs = 0
        self.best_weights: dict[str, torch.Tensor] | None = None

    def record(self, metric: float, epoch: int, model: nn.Module) -> bool:
        """Note `epoch`'s metric; returns whether it is now the best epoch (its weights are then kept)."""
        improved = not math.isnan(metric) and (self.best_epoch == 0 or metric > self.best_metric)
        best = improved or metric == self.best_metric
        if best:
            self.best_metric, self.best_epoch = metric, epoch
            self.best_weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        self.stale_epochs = 0 if improved else self.stale_epochs + 1
        return best

    def validate(self, validation: Validation, model: nn.Module, row: dict[str, float]) -> None:
        """Measure `validation` after the epoch of history `row`, add the value to the row and record it."""
        row[validation.name] = validation.measure(model)
        self.record(row[validation.name], int(row["epoch"]), model)

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.stale_epochs >= self.patience

    def restore_best(self, model: nn.Module) -> None:
        """Load the best epoch's weights into `model` (nothing happens before a first valid metric)."""
        if self.best_weights is not None:
            model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint needs to resume the selection (tensors and numbers only)."""
        return {"best_metric": self.best_metric, "best_epoch": self.best_epoch, "stale_epochs": self.stale_epochs,
                "best_weights": self.best_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_metric, self.best_epoch = float(state["best_metric"]), int(state["best_epoch"])
        self.stale_epochs, self.best_weights = int(state["stale_epochs"]), state["best_weights"]
