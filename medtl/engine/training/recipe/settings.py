"""Training settings shared by every loop: the typed `train.*` config section, the precision policy and the
memory layout."""
from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, fields

import torch
from torch import nn

from medtl.config import ExperimentConfig
from medtl.engine.training.recipe.optim import OPTIMIZERS
from medtl.engine.training.recipe.schedule import SCHEDULES

IMBALANCE = ("loss", "sampler", "none")
CHOICES = {
    "optimizer": OPTIMIZERS,
    "schedule": SCHEDULES,
    "imbalance": IMBALANCE,
    "precision": ("auto", "bf16", "fp32"),
    "channels_last": ("auto", None, True, False),
}


@dataclass(frozen=True)
class TrainSettings:
    """The `train.*` section of a config, typed and checked (see `configs/defaults.yaml` for each key).

    Example:
        >>> TrainSettings.from_config(ExperimentConfig.from_dict({"train": {"epochs": 2}})).epochs
        2
        >>> TrainSettings(schedule="linear")
        Traceback (most recent call last):
        ...
        ValueError: train.schedule must be one of ['cosine', 'onecycle', 'constant']. Got 'linear' instead.
    """

    strategy: str = "full"
    epochs: int = 5
    head_epochs: int = 1
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 0
    optimizer: str = "adamw"
    schedule: str = "cosine"
    layer_decay: float | None = None
    imbalance: str = "loss"
    val_fraction: float = 0.0
    select_best: bool = True
    patience: int | None = None
    precision: str = "auto"
    channels_last: bool | str | None = None
    compile: bool = False
    tensorboard: bool = False
    device: str = "auto"
    num_workers: int | None = None

    def __post_init__(self) -> None:
        for key, allowed in CHOICES.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"train.{key} must be one of {list(allowed)}. Got {getattr(self, key)!r} instead.")
        if self.layer_decay is not None:
            if not 0 < self.layer_decay <= 1:
                raise ValueError(f"train.layer_decay must be in (0, 1] or null. Got {self.layer_decay!r} instead.")
            if self.strategy == "linear_probe":
                raise ValueError("train.layer_decay applies to train.strategy full or freeze_unfreeze; "
                                 f"this run uses {self.strategy!r}")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"train.val_fraction must be at least 0 and below 1. Got {self.val_fraction!r} instead.")
        if self.patience is not None and (self.patience < 1 or self.val_fraction == 0):
            raise ValueError(f"train.patience (got {self.patience!r}) must be null or at least 1, and early stopping "
                             "needs a validation split: set train.val_fraction, e.g. 0.2")

    @classmethod
    def from_config(cls, cfg: ExperimentConfig) -> "TrainSettings":
        return cls(**{f.name: cfg[f"train.{f.name}"] for f in fields(cls)})

    @property
    def loader_workers(self) -> int:
        """DataLoader worker processes: `num_workers`, or when null, one per two CPU cores beyond the first two
        (at most 8) while training on a GPU, and none on the CPU, where workers compete with the model's own
        threads for the same cores.

        Example:
            >>> TrainSettings(num_workers=3).loader_workers, TrainSettings(device="cpu").loader_workers
            (3, 0)
        """
        if self.num_workers is not None:
            return self.num_workers
        if self.torch_device.type == "cpu":
            return 0
        return min(8, max(0, ((os.cpu_count() or 1) - 2) // 2))

    @property
    def torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


def cpu_supports_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 / AMX on x86, BF16 on Arm), as oneDNN reports it.

    Example:
        >>> isinstance(cpu_supports_bf16(), bool)
        True
    """
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def autocast_for(device: torch.device, precision: str = "auto") -> AbstractContextManager:
    """The mixed-precision context for `precision`: "auto" is bf16 autocast on GPUs that support it and full
    precision elsewhere; "bf16" asks for bf16 autocast on a GPU or on a CPU with native bf16 (an error names the
    device when it has none); "fp32" is always full precision.

    Example:
        >>> isinstance(autocast_for(torch.device("cpu")), nullcontext)
        True
    """
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return nullcontext()
    supported = {"cuda": lambda: torch.cuda.is_bf16_supported(), "cpu": cpu_supports_bf16}.get(device.type)
    if supported is not None and supported():
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "auto":
        return nullcontext()
    raise ValueError(f"train.precision bf16: the {device.type} device of this run has no native bf16 support; "
                     "use train.precision auto or fp32")


def memory_format_for(channels_last: bool | str | None, device: torch.device, model: nn.Module) -> torch.memory_format | None:
    """The memory layout to train `model` in: channels-last (`channels_last_3d` for 3D convolutions) when
    `channels_last` is True, or when it is "auto"/None and a 2D convolution model trains on CUDA (where tensor
    cores prefer it); None keeps torch's default layout.

    Example:
        >>> memory_format_for(True, torch.device("cpu"), nn.Conv2d(1, 1, 3))
        torch.channels_last
        >>> memory_format_for("auto", torch.device("cpu"), nn.Conv2d(1, 1, 3)) is None
        True
    """
    spatial_dims = max((p.ndim for p in model.parameters()), default=2) - 2
    if channels_last is False or spatial_dims not in (2, 3):
        return None
    if channels_last in ("auto", None) and (device.type != "cuda" or spatial_dims != 2):
        return None
    return torch.channels_last if spatial_dims == 2 else torch.channels_last_3d
