"""Per-epoch training checkpoints, so a killed run resumes from its last finished epoch.

Each checkpoint holds the model (safetensors) and, in a weights-only torch file, the optimizer state, the
finished epoch, the strategy phase, the history so far and, with validation, the model selection (best epoch,
its metric and weights, epochs since it). Random state needs no saving: `train` reseeds torch and the
augmentation from (seed, epoch) at the start of every epoch, so epoch e+1 after a resume draws exactly what it
would have drawn without the interruption.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import nn

from medtl.engine.training.model_files import save_weights

MODEL_FILE = "last_model.safetensors"
STATE_FILE = "last_state.pt"


@dataclass
class Resumed:
    """What a checkpoint restores besides the model weights."""

    epoch: int
    phase: Any
    optimizer_state: dict[str, Any]
    history: list[dict[str, float]]
    selection: dict[str, Any] | None


def save_checkpoint(folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int, phase: Any,
                    history: list[dict[str, float]], selection: dict[str, Any] | None = None) -> None:
    """Write the checkpoint of finished `epoch` (1-based), with `selection` (`ModelSelection.state_dict()`)
    when the run validates; files are replaced atomically, so a kill during the write leaves the previous
    checkpoint intact.

    Example:
        >>> save_checkpoint(Path("runs/x/fold_0"), model, optimizer, 3, phase, rows)  # doctest: +SKIP
    """
    folder.mkdir(parents=True, exist_ok=True)
    tmp_model, tmp_state = folder / f".{MODEL_FILE}.tmp", folder / f".{STATE_FILE}.tmp"
    save_weights(model, tmp_model)
    torch.save({"epoch": epoch, "phase": [phase.backbone_trains, phase.backbone_lr_factor],
                "optimizer": optimizer.state_dict(), "history": history, "selection": selection}, tmp_state)
    os.replace(tmp_model, folder / MODEL_FILE)
    os.replace(tmp_state, folder / STATE_FILE)


def load_checkpoint(folder: Path, model: nn.Module) -> Resumed | None:
    """Restore the model from `folder`'s checkpoint and return the rest, or None when there is none.

    Example:
        >>> load_checkpoint(Path("runs/x/fold_0"), model).epoch  # doctest: +SKIP
        3
    """
    if not (folder / STATE_FILE).is_file() or not (folder / MODEL_FILE).is_file():
        return None
    state = torch.load(folder / STATE_FILE, weights_only=True)
    model.load_state_dict(load_file(folder / MODEL_FILE))
    return Resumed(int(state["epoch"]), tuple(state["phase"]), state["optimizer"], list(state["history"]),
                   state.get("selection"))


def remove_checkpoint(folder: Path) -> None:
    """Delete the checkpoint once the fold's final model is written."""
    for name in (MODEL_FILE, STATE_FILE):
        (folder / name).unlink(missing_ok=True)
