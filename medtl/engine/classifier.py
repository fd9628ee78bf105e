"""`Classifier`: fine-tune a pretrained backbone on a `CaseTable`, scikit-learn style."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.engine.cv import prediction_frame
from medtl.engine.datasets import case_items
from medtl.engine.labels import resolve_classes
from medtl.engine.loop import class_weights, predict_proba, train
from medtl.engine.settings import TrainSettings
from medtl.engine.setup import Pipelines, build_model, case_cache


class NotFittedError(RuntimeError):
    """`predict_proba` called before `fit`."""


class Classifier:
    """Image/volume classifier fine-tuned from a pretrained backbone.

    `config` takes any subset of the experiment keys (see `configs/defaults.yaml`); `fit` returns self and sets
    `config_`, `classes_`, `positive_`, `model_`, `history_`; `predict_proba` returns the tidy predictions table.

    Example:
        >>> clf = Classifier({"model": {"backbone": "resnet18"}, "train": {"epochs": 2}})
        >>> clf.fit(train_table).predict_proba(test_table)  # doctest: +SKIP
    """

    def __init__(self, config: ExperimentConfig | dict[str, Any] | None = None):
        self.config = config

    def _cfg(self) -> ExperimentConfig:
        if isinstance(self.config, ExperimentConfig):
            return self.config
        return ExperimentConfig.from_dict(self.config or {})

    def fit(self, table: CaseTable, checkpoint: Path | None = None, progress: bool = False) -> "Classifier":
        """Fine-tune on every case of `table` (labels required). With `checkpoint` (a folder), every epoch is
        saved there and an interrupted fit resumes from it."""
        cfg = self.config_ = self._cfg()
        self.classes_, self.positive_ = resolve_classes(table, cfg["data.positive_label"])
        self.pipelines_ = Pipelines.from_config(cfg)
        self.settings_ = TrainSettings.from_config(cfg)
        items = case_items(table, self.classes_, with_mask=False)
        y = np.array([item["y"] for item in items])
        torch.manual_seed(cfg["seed"])
        self.model_ = build_model(cfg, len(self.classes_))
        data = case_cache(cfg, items, self.pipelines_, progress=progress).subset(np.arange(len(items)),
                                                                                 self.pipelines_.train)
        self.history_ = train(self.model_, data, self.settings_, head=self.model_.spec.classifier,
                              loss_weights=class_weights(y, len(self.classes_)), progress=progress,
                              seed=cfg["seed"], checkpoint=checkpoint)
        return self

    def predict_proba(self, table: CaseTable) -> pd.DataFrame:
        """Predictions for every case of `table`: case_id, patient_id, fold (-1), [label, y_true], p_<class>."""
        if not hasattr(self, "model_"):
            raise NotFittedError("this Classifier is not fitted yet; call fit(table) before predict_proba")
        items = case_items(table, self.classes_, with_mask=False)
        data = case_cache(self.config_, items, self.pipelines_, progress=False).subset(np.arange(len(items)),
                                                                                      self.pipelines_.eval)
        proba = predict_proba(self.model_, data, self.settings_)
        return prediction_frame(table, np.arange(len(table)), proba, self.classes_, fold=-1)
