"""The run folder: a fixed, documented layout (see README), created without overwriting earlier work."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from safetensors.torch import save_file
from torch import nn

from medtl.config import ExperimentConfig
from medtl.engine.training_plots import plot_history

MODEL_FILE = "model.safetensors"
FOLD_PREDICTIONS = "val_predictions.csv"


class RunFolder:
    """Paths of one run's outputs.

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


def save_model(folder: Path, model: nn.Module, history: pd.DataFrame) -> None:
    """Write a trained model into `folder`: its weights (model.safetensors), training history (history.csv and
    history.png) and, when it was built from pretrained weights, its weight-loading report (load_report.json).

    Example:
        >>> save_model(Path("runs/final"), clf.model_, clf.history_)  # doctest: +SKIP
    """
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, folder / MODEL_FILE)
    history.to_csv(folder / "history.csv", index=False)
    plot_history(history, folder / "history.png")
    if getattr(model, "load_report", None) is not None:
        (folder / "load_report.json").write_text(model.load_report.to_json())


def save_fold(folder: Path, model: nn.Module, history: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Write a fold: its model (`save_model`) and its held-out predictions (val_predictions.csv), the file whose
    presence marks the fold finished.

    Example:
        >>> save_fold(RunFolder("runs/demo").fold(0), model, history, frame)  # doctest: +SKIP
    """
    save_model(folder, model, history)
    frame.to_csv(folder / FOLD_PREDICTIONS, index=False)
