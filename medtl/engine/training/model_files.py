"""Trained models written into and read back from a run folder (`medtl.run_folder`): the one place that saves
and loads a run's model weights."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from safetensors.torch import load_file, save_file
from torch import nn

from medtl.config import ExperimentConfig
from medtl.engine.training.setup import build_model
from medtl.engine.training.training_plots import plot_history
from medtl.run_folder import FOLD_PREDICTIONS, MODEL_FILE, RunFolder


def save_weights(model: nn.Module, path: Path) -> None:
    """Write `model`'s parameters and buffers to the safetensors file `path`.

    Example:
        >>> save_weights(model, Path("runs/final/model.safetensors"))  # doctest: +SKIP
    """
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, path)


def save_model(folder: Path, model: nn.Module, history: pd.DataFrame) -> None:
    """Write a trained model into `folder`: its weights (model.safetensors), training history (history.csv and
    history.png) and, when it was built from pretrained weights, its weight-loading report (load_report.json).

    Example:
        >>> save_model(Path("runs/final"), clf.model_, clf.history_)  # doctest: +SKIP
    """
    folder.mkdir(parents=True, exist_ok=True)
    save_weights(model, folder / MODEL_FILE)
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


def load_model_file(cfg: ExperimentConfig, path: str | Path, num_classes: int) -> nn.Module:
    """`cfg`'s model with the weights of `path` (model.safetensors), read strictly, in eval mode; a clear error
    when they do not fit the configured backbone.

    Example:
        >>> load_model_file(cfg, "runs/final/model.safetensors", 2)  # doctest: +SKIP
    """
    model = build_model(cfg, num_classes, weights="none")
    try:
        model.load_state_dict(load_file(path))
    except RuntimeError as err:
        raise ValueError(f"{path}: does not fit a {cfg['model.backbone']} with {num_classes} "
                         f"classes ({str(err).splitlines()[0]})") from None
    return model.eval()


def load_fold_model(cfg: ExperimentConfig, run_dir: str | Path, fold: int, num_classes: int) -> nn.Module:
    """The model a fold trained, read back from `fold_<k>/model.safetensors`.

    Example:
        >>> load_fold_model(cfg, "runs/demo", 0, 2)  # doctest: +SKIP
    """
    return load_model_file(cfg, RunFolder(run_dir).fold_model(fold), num_classes)
