"""`Classifier`: fine-tune a pretrained backbone on a `CaseTable`, scikit-learn style."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.engine.datasets import case_items
from medtl.engine.imbalance import balancing
from medtl.engine.labels import resolve_classes
from medtl.engine.loop import predict_proba, train
from medtl.engine.predictions import prediction_frame
from medtl.engine.settings import TrainSettings
from medtl.engine.setup import Pipelines, build_model, case_cache
from medtl.engine.validation import auc_validation, validation_rows
from medtl.errors import NotFittedError


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

    def fit(self, table: CaseTable, checkpoint: Path | None = None, progress: bool = False,
            log_dir: Path | None = None) -> "Classifier":
        """Fine-tune on every case of `table` (labels required), or, with `train.val_fraction`, on all but the
        patients held out to validate every epoch. With `checkpoint` (a folder), every epoch is saved there and
        an interrupted fit resumes from it; with `train.tensorboard`, event files go to `log_dir`."""
        cfg = self.config_ = self._cfg()
        self.classes_, self.positive_ = resolve_classes(table, cfg["data.positive_label"])
        self.pipelines_ = Pipelines.from_config(cfg)
        self.settings_ = TrainSettings.from_config(cfg)
        items = case_items(table, self.classes_, with_mask=False)
        y = np.array([item["y"] for item in items])
        cache = case_cache(cfg, items, self.pipelines_, progress=progress)
        fit_rows, check_rows = validation_rows(table, np.arange(len(items)), self.settings_.val_fraction, cfg["seed"])
        validation = auc_validation(cache.subset(check_rows, self.pipelines_.eval), self.settings_, table, check_rows,
                                    self.classes_, self.positive_, cfg["cv.aggregate"]) if len(check_rows) else None
        balance = balancing(self.settings_.imbalance, y[fit_rows], len(self.classes_))
        torch.manual_seed(cfg["seed"])
        self.model_ = build_model(cfg, len(self.classes_))
        self.history_ = train(self.model_, cache.subset(fit_rows, self.pipelines_.train), self.settings_,
                              head=self.model_.spec.classifier, loss_weights=balance.loss_weights,
                              sample_weights=balance.sample_weights, progress=progress, seed=cfg["seed"],
                              checkpoint=checkpoint, validation=validation, log_dir=log_dir)
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
