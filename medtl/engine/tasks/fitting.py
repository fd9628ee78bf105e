"""The fit every run shares: hold out validation patients, build the model, train it on the rest with the
task's loss and validation metric."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from medtl.engine.pipeline.datasets import CaseCache
from medtl.engine.training.loop import train
from medtl.engine.training.objective import FitContext
from medtl.engine.training.setup import build_model
from medtl.engine.tasks.task import Task
from medtl.engine.tasks.validation import validation_rows


@dataclass
class Fit:
    """A fitted model, its per-epoch history and the rows it was fitted and validated on."""

    model: nn.Module
    history: pd.DataFrame
    fit_rows: np.ndarray
    check_rows: np.ndarray


def fit_model(task: Task, cache: CaseCache, rows: np.ndarray, seed: int, checkpoint: Path | None = None,
              log_dir: Path | None = None, progress: bool = True, desc: str = "train") -> Fit:
    """Fit a fresh model of `task` on the cases at `rows` of `cache`: `train.val_fraction` of their patients
    held out to validate every epoch (grouped by patient, stratified by label), the model built and every epoch
    seeded from `seed`, checkpointed to `checkpoint` (and resumed from it) when given.

    Example:
        >>> fit = fit_model(ClassificationTask(cfg, table), cache, np.arange(len(table)), seed=0)  # doctest: +SKIP
        >>> fit.history["loss"].iloc[-1]                                                        # doctest: +SKIP
        0.41
    """
    fit_rows, check_rows = validation_rows(task.table, rows, task.settings.val_fraction, seed)
    validation = task.validation(cache, check_rows) if len(check_rows) else None
    objective = task.objective(fit_rows)
    torch.manual_seed(seed)
    model = build_model(task.cfg, task.num_outputs)
    context = FitContext(seed=seed, checkpoint=checkpoint, validation=validation, log_dir=log_dir, desc=desc)
    with task.fitting():
        history = train(model, task.training_data(cache, fit_rows), task.settings, head=model.spec.classifier,
                        objective=objective, context=context, progress=progress)
    return Fit(model, history, fit_rows, check_rows)
