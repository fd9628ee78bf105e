"""What ends every epoch of the loop and of the linear probe: validate, record, log, checkpoint."""
from __future__ import annotations

from typing import Any

from torch import nn
from torch.optim import Optimizer

from medtl.engine.training.checkpoint import save_checkpoint
from medtl.engine.training.distributed import is_main_process
from medtl.engine.training.monitor import TrainingMonitor
from medtl.engine.training.objective import FitContext
from medtl.engine.training.selection import ModelSelection


def end_epoch(row: dict[str, float], rows: list[dict[str, float]], model: nn.Module, optimizer: Optimizer,
              epoch: int, phase: Any, context: FitContext, selection: ModelSelection, validation: Any,
              monitor: TrainingMonitor) -> None:
    """Validate `model` into `row` (when the run validates), append it to `rows`, log it, and write the
    checkpoint of finished `epoch` (0-based) on the main process when the run keeps one.

    Example:
        >>> end_epoch({"epoch": 1, "loss": 0.7}, rows, model, optimizer, 0, 0, context, selection, None, monitor)  # doctest: +SKIP
    """
    if validation is not None:
        selection.validate(validation, model, row)
    rows.append(row)
    monitor.epoch(row)
    if context.checkpoint is not None and is_main_process():
        save_checkpoint(context.checkpoint, model, optimizer, epoch + 1, phase, rows,
                        selection.state_dict() if validation is not None else None)
