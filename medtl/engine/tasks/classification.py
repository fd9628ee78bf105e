"""Single-label classification (binary or multi-class) as a `Task`: cross-entropy with class balancing,
patient-level AUC as the validation metric and summary, saliency and per-patient reports at the end of a run."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from torch import nn

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.engine.pipeline.datasets import CaseCache, case_items
from medtl.engine.tasks.fold_saliency import explain_with_fold_models, top_cases
from medtl.engine.tasks.imbalance import balancing
from medtl.engine.tasks.labels import resolve_classes
from medtl.engine.training.loop import predict_proba
from medtl.engine.training.objective import Objective
from medtl.engine.tasks.predictions import prediction_frame
from medtl.engine.training.selection import Validation
from medtl.engine.tasks.task import Task
from medtl.engine.tasks.validation import auc_validation
from medtl.evaluate import format_summary, summarize_cv
from medtl.report import write_report
from medtl.run_folder import RunFolder, target_class


class ClassificationTask(Task):
    """One label per case (`CaseTable.classes`); `classes` in the model's output order and the `positive` class
    of a binary task (see `medtl.engine.tasks.labels.resolve_classes`).

    Example:
        >>> task = ClassificationTask(cfg, table)  # doctest: +SKIP
        >>> task.classes, task.positive            # doctest: +SKIP
        (['normal', 'nodule'], 'nodule')
    """

    fold_dtypes: ClassVar[dict[str, Any]] = {**Task.fold_dtypes, "label": str}

    def __init__(self, cfg: ExperimentConfig, table: CaseTable):
        self.classes, self.positive = resolve_classes(table, cfg["data.positive_label"])
        super().__init__(cfg, table)

    @property
    def num_outputs(self) -> int:
        return len(self.classes)

    @property
    def target(self) -> str:
        """The class a run explains and ranks cases by: the positive class, or the last one."""
        return target_class(self.classes, self.positive)

    def make_items(self) -> list[dict[str, Any]]:
        return case_items(self.table, self.classes, with_mask=False)

    def objective(self, rows: np.ndarray) -> Objective:
        y = np.array([self.items[row]["y"] for row in rows])
        balance = balancing(self.settings.imbalance, y, len(self.classes))
        return Objective(loss_weights=balance.loss_weights, sample_weights=balance.sample_weights)

    def validation(self, cache: CaseCache, rows: np.ndarray) -> Validation:
        return auc_validation(cache.subset(rows, self.pipes.eval), self.settings, self.table, rows, self.classes,
                              self.positive, self.cfg["cv.aggregate"])

    def predict(self, model: nn.Module, cache: CaseCache, rows: np.ndarray, fold: int) -> pd.DataFrame:
        proba = predict_proba(model, cache.subset(rows, self.pipes.eval), self.settings)
        return prediction_frame(self.table, rows, proba, self.classes, fold)

    def summarize(self, oof: pd.DataFrame) -> dict[str, Any]:
        return summarize_cv(oof, self.classes, self.positive, aggregate_how=self.cfg["cv.aggregate"])

    def format_summary(self, summary: dict[str, Any]) -> str:
        return format_summary(summary)

    def finish(self, run: RunFolder, oof: pd.DataFrame, cache: CaseCache) -> None:
        """Explain the `explain.cases` most confidently positive cases with their fold models (none with 0),
        then write the per-patient report."""
        cases = top_cases(oof, self.target, self.cfg["explain.cases"])
        if cases:
            explain_with_fold_models(self.cfg, run, self.table, oof, self.classes, self.target, self.pipes, cache,
                                     cases, self.cfg["explain.method"])
        write_report(run.root)
