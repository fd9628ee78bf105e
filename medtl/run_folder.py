"""The run folder: one fixed, documented layout (see README) that every writer and reader of runs uses, created
without overwriting earlier work.

    config.yaml, cases.csv, splits.json          the resolved config, the scanned cases, the patient folds
    fold_<k>/model.safetensors, history.csv, val_predictions.csv, load_report.json
    oof_predictions.csv, cv_summary.json         out-of-fold predictions and their summary
    model.safetensors, model.json                a `medtl train` run: one model, its backbone and classes
    explain/, reports/                           saliency maps, per-patient reports
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable

MODEL_FILE = "model.safetensors"
MODEL_INFO = "model.json"
FOLD_PREDICTIONS = "val_predictions.csv"
ID_DTYPES = {"case_id": str, "patient_id": str, "label": str}  # ids such as "007" stay as written


def target_class(classes: list[str], positive: str | None) -> str:
    """The class a classification run ranks, explains and reports on: its positive class, else the last one.

    Example:
        >>> target_class(["normal", "nodule"], "nodule"), target_class(["a", "b", "c"], None)
        ('nodule', 'c')
    """
    return positive or classes[-1]


class RunFolder:
    """Paths and readers of one run's outputs.

    Example:
        >>> RunFolder("runs/demo").fold(0).name
        'fold_0'
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def create(self, overwrite: bool = False) -> "RunFolder":
        """Make the folder; an existing non-empty one is refused unless `overwrite` (then it is emptied)."""
        if self.root.exists() and any(self.root.iterdir()):
            if not overwrite:
                raise FileExistsError(
                    f"{self.root} already holds a run; choose another --out or pass --overwrite to replace it"
                )
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    def resume(self, cfg: ExperimentConfig) -> "RunFolder":
        """Reopen an interrupted run; refused when there is none or when `cfg` differs from the one it used.

        Example:
            >>> RunFolder("runs/never-made").resume(cfg)  # doctest: +SKIP
            FileNotFoundError: runs/never-made/config.yaml: no run to resume ...
        """
        if not self.config.is_file():
            raise FileNotFoundError(f"{self.config}: no run to resume here; start it without --resume")
        saved = ExperimentConfig.from_yaml(self.config)
        if saved.data != cfg.data:
            changed = sorted(k for k in set(saved.flat()) | set(cfg.flat()) if saved.flat().get(k) != cfg.flat().get(k))
            raise ValueError(f"{self.config}: the run was started with another config (differs in {changed}); "
                             "resume it with the same config, or start a new run")
        return self

    def fold(self, k: int) -> Path:
        return self.root / f"fold_{k}"

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def cases(self) -> Path:
        return self.root / "cases.csv"

    @property
    def splits(self) -> Path:
        return self.root / "splits.json"

    @property
    def oof(self) -> Path:
        return self.root / "oof_predictions.csv"

    @property
    def summary(self) -> Path:
        return self.root / "cv_summary.json"

    @property
    def explain(self) -> Path:
        return self.root / "explain"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def model(self) -> Path:
        """The one model of a `medtl train` run."""
        return self.root / MODEL_FILE

    @property
    def model_info(self) -> Path:
        return self.root / MODEL_INFO

    def fold_model(self, k: int) -> Path:
        return self.fold(k) / MODEL_FILE

    def fold_models(self) -> list[Path]:
        """The fold models a cross-validation wrote, in fold order.

        Example:
            >>> RunFolder("runs/never-made").fold_models()
            []
        """
        folds = [p for p in self.root.glob(f"fold_*/{MODEL_FILE}") if p.parent.name[len("fold_"):].isdigit()]
        return sorted(folds, key=lambda p: int(p.parent.name[len("fold_"):]))

    def require(self, *paths: Path, what: str = "a finished `medtl cv` run") -> None:
        """Refuse, naming the first missing file, unless every one of `paths` exists."""
        for path in paths:
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing: {self.root} is not {what}")

    def read_config(self) -> ExperimentConfig:
        return ExperimentConfig.from_yaml(self.config)

    def read_cases(self) -> CaseTable:
        return CaseTable.from_csv(self.cases)

    def read_summary(self) -> dict[str, Any]:
        return read_json(self.summary)

    def read_oof(self) -> pd.DataFrame:
        return pd.read_csv(self.oof, dtype=ID_DTYPES)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON file of a run; a clear error naming it when it is not valid JSON."""
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
