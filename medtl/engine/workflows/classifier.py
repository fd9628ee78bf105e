"""`Classifier`: fine-tune a pretrained backbone on a `CaseTable`, scikit-learn style."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.engine.tasks.classification import ClassificationTask
from medtl.engine.pipeline.datasets import case_items
from medtl.engine.tasks.fitting import fit_model
from medtl.engine.training.loop import predict_proba
from medtl.engine.training.model_files import save_model
from medtl.engine.tasks.predictions import prediction_frame
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.engine.training.setup import Pipelines, case_cache
from medtl.engine.workflows.trained_model import load_trained_model
from medtl.errors import NotFittedError
from medtl.run_folder import RunFolder


class Classifier:
    """Image/volume classifier fine-tuned from a pretrained backbone.

    `config` takes any subset of the experiment keys (see `configs/defaults.yaml`); `fit` returns self and sets
    `config_`, `classes_`, `positive_`, `model_`, `history_`; `predict_proba` returns the tidy predictions table;
    `save` writes a `medtl train` run folder and `Classifier.load` reads one back.

    Example:
        >>> clf = Classifier({"model": {"backbone": "resnet18"}, "train": {"epochs": 2}})
        >>> clf.fit(train_table).predict_proba(test_table)  # doctest: +SKIP
    """

    def __init__(self, config: ExperimentConfig | dict[str, Any] | None = None):
        self.config = config

    def _check_fitted(self, what: str) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"this Classifier is not fitted yet; call fit(table) before {what}")

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
        task = ClassificationTask(cfg, table)
        self.classes_, self.positive_ = task.classes, task.positive
        self.pipelines_, self.settings_ = task.pipes, task.settings
        cache = case_cache(cfg, task.items, task.pipes, progress=progress)
        fit = fit_model(task, cache, np.arange(len(task.items)), cfg["seed"], checkpoint=checkpoint, log_dir=log_dir,
                        progress=progress)
        self.model_, self.history_ = fit.model, fit.history
        return self

    def save(self, folder: str | Path) -> Path:
        """Write the fitted model as a `medtl train` run folder: config.yaml, model.safetensors, model.json
        (backbone, classes, positive class), history.csv, history.png and load_report.json; returns the folder.

        Example:
            >>> Classifier({"train": {"epochs": 2}}).fit(table).save("runs/final")  # doctest: +SKIP
            PosixPath('runs/final')
        """
        self._check_fitted("save")
        run = RunFolder(folder)
        run.root.mkdir(parents=True, exist_ok=True)
        self.config_.to_yaml(run.config)
        save_model(run.root, self.model_, self.history_)
        run.model_info.write_text(json.dumps({"backbone": self.config_["model.backbone"], "classes": self.classes_,
                                              "positive": self.positive_}, indent=2))
        return run.root

    @classmethod
    def load(cls, path: str | Path) -> "Classifier":
        """A fitted `Classifier` read back from what `save` (or `medtl train`) wrote, or from a model.safetensors
        file with model.json and config.yaml beside it.

        Example:
            >>> Classifier.load("runs/final").predict_proba(new_table)  # doctest: +SKIP
        """
        trained = load_trained_model(path)
        if len(trained.weights) != 1:
            raise ValueError(f"{path}: a `medtl cv` run holds {len(trained.weights)} fold models; Classifier.load "
                             "reads one model (a `medtl train` run); medtl.predict applies the fold ensemble")
        clf = cls(trained.cfg)
        clf.config_, clf.classes_, clf.positive_ = trained.cfg, trained.classes, trained.positive
        clf.pipelines_, clf.settings_ = Pipelines.from_config(trained.cfg), TrainSettings.from_config(trained.cfg)
        clf.model_ = trained.load()[0]
        history = trained.folder / "history.csv"
        clf.history_ = pd.read_csv(history) if history.is_file() else None
        return clf

    def predict_proba(self, table: CaseTable) -> pd.DataFrame:
        """Predictions for every case of `table`: case_id, patient_id, fold (-1), [label, y_true], p_<class>."""
        self._check_fitted("predict_proba")
        items = case_items(table, self.classes_, with_mask=False)
        data = case_cache(self.config_, items, self.pipelines_, progress=False).subset(np.arange(len(items)),
                                                                                      self.pipelines_.eval)
        proba = predict_proba(self.model_, data, self.settings_)
        return prediction_frame(table, np.arange(len(table)), proba, self.classes_, fold=-1)
