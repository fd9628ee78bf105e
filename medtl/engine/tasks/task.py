"""What a task brings to the one training skeleton every run shares (`medtl.engine.tasks.fitting`,
`medtl.engine.workflows.folds`): its cases as pipeline items, its pipelines, its loss, its validation metric, how a fitted
model predicts and scores held-out cases, and how out-of-fold results are summarised.

A new task subclasses `Task` and registers itself in `medtl.engine.tasks.registry`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from torch import nn
from torch.utils.data import Dataset

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.engine.pipeline.datasets import CaseCache
from medtl.engine.training.objective import Objective
from medtl.engine.training.selection import Validation
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.engine.training.setup import Pipelines
from medtl.run_folder import RunFolder


class Task(ABC):
    """A task on the cases of `table` as `cfg` configures it.

    Example:
        >>> task = ClassificationTask(cfg, table)          # doctest: +SKIP
        >>> fit = fit_model(task, cache, rows, seed=0)     # doctest: +SKIP
        >>> task.predict(fit.model, cache, held_out, 0)    # doctest: +SKIP
    """

    with_mask: ClassVar[bool] = False
    # How the columns of a saved fold's predictions are read back (ids stay strings such as "007").
    fold_dtypes: ClassVar[dict[str, Any]] = {"case_id": str, "patient_id": str}

    def __init__(self, cfg: ExperimentConfig, table: CaseTable):
        self.cfg, self.table = cfg, table
        self.settings = TrainSettings.from_config(cfg)
        self.pipes = Pipelines.from_config(cfg, with_mask=self.with_mask)
        self.items = self.make_items()

    @property
    @abstractmethod
    def num_outputs(self) -> int:
        """Output channels of the model's head."""

    @abstractmethod
    def make_items(self) -> list[dict[str, Any]]:
        """The per-case dicts the pipelines read, one per row of the table, in order."""

    @abstractmethod
    def objective(self, rows: np.ndarray) -> Objective:
        """The loss for a fit on the cases at `rows` (class balancing follows their labels)."""

    @abstractmethod
    def validation(self, cache: CaseCache, rows: np.ndarray) -> Validation:
        """The metric measured on the cases at `rows` after every epoch."""

    @abstractmethod
    def predict(self, model: nn.Module, cache: CaseCache, rows: np.ndarray, fold: int) -> pd.DataFrame:
        """Predictions (and, for labelled cases, their scores) of the cases at `rows`, one row per case."""

    @abstractmethod
    def summarize(self, oof: pd.DataFrame) -> dict[str, Any]:
        """The cv_summary.json content of the out-of-fold predictions."""

    @abstractmethod
    def format_summary(self, summary: dict[str, Any]) -> str:
        """The summary as the table `medtl cv` prints."""

    def training_data(self, cache: CaseCache, rows: np.ndarray) -> Dataset:
        """The training cases at `rows` with the per-epoch training transform."""
        return cache.subset(rows, self.pipes.train)

    def fitting(self) -> AbstractContextManager:
        """A context the training runs in (e.g. to quiet an expected warning)."""
        return nullcontext()

    def finish(self, run: RunFolder, oof: pd.DataFrame, cache: CaseCache) -> None:
        """What follows the summary in a cross-validated run (saliency, reports); nothing by default."""
