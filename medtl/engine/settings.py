"""Training settings shared by every loop: the typed `train.*` config section, the precision policy and the
learning-rate schedule."""
from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass, fields

import torch

from medtl.config import ExperimentConfig


@dataclass(frozen=True)
class TrainSettings:
    """The `train.*` section of a config, typed.

    Example:
        >>> TrainSettings.from_config(ExperimentConfig.from_dict({"train": {"epochs": 2}})).epochs
        2
    """

    strategy: str = "full"
    epochs: int = 5
    head_epochs: int = 1
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 0
    device: str = "auto"
    num_workers: int = 0

    @classmethod
    def from_config(cls, cfg: ExperimentConfig) -> "TrainSettings":
        return cls(**{f.name: cfg[f"train.{f.name}"] for f in fields(cls)})

    @property
    def torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


def autocast_for(device: torch.device):
    """bf16 autocast on GPUs that support it; full precision elsewhere."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 1% of the peak.

    Example:
        >>> [round(lr_factor(s, 10, 2), 2) for s in (0, 1, 2, 9)]
        [0.5, 1.0, 1.0, 0.05]
    """
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * progress))
