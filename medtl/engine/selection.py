"""Validation during training: a metric measured after every epoch on held-out patients, the best epoch's
weights kept, and early stopping when the metric stops improving."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from medtl.engine.distributed import is_distributed, sync_buffers


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


class ModelSelection:
    """The best validation epoch so far (its 1-based number, metric and a CPU copy of its weights) and the
    number of epochs since it, for early stopping after `patience` epochs without improvement (None: never).
    A NaN metric never counts as an improvement.

    Example:
        >>> selection, model = ModelSelection(patience=1), nn.Linear(1, 1)
        >>> selection.record(0.7, 1, model), selection.record(0.6, 2, model), selection.should_stop
        (True, False, True)
        >>> selection.best_epoch
        1
    """

    def __init__(self, patience: int | None):
        self.patience = patience
        self.best_metric = math.nan
        self.best_epoch = 0
        self.stale_epochs = 0
        self.best_weights: dict[str, torch.Tensor] | None = None

    def record(self, metric: float, epoch: int, model: nn.Module) -> bool:
        """Note `epoch`'s metric; returns whether it is the best so far (its weights are then kept)."""
        improved = not math.isnan(metric) and (self.best_epoch == 0 or metric > self.best_metric)
        if improved:
            self.best_metric, self.best_epoch, self.stale_epochs = metric, epoch, 0
            self.best_weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            self.stale_epochs += 1
        return improved

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
