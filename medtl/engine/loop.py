"""The training and inference loops shared by classification CV, segmentation CV, source pretraining and
`Classifier`."""
from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from monai.data import list_data_collate
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from medtl.config import ExperimentConfig
from medtl.engine.strategy import apply_phase, phase_for_epoch, set_train_mode


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
        [0.5, 1.0, 1.0, 0.04]
    """
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * progress))


def class_weights(y: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights (scikit-learn's "balanced"), so a rare class counts as much as a common one.

    Example:
        >>> class_weights(np.array([0, 0, 0, 1]), 2)
        tensor([0.6667, 2.0000])
    """
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weights = len(y) / (n_classes * np.maximum(counts, 1.0))
    return torch.tensor(weights, dtype=torch.float32)


def train(
    model: nn.Module,
    data: Dataset,
    settings: TrainSettings,
    head: str,
    loss_weights: torch.Tensor | None = None,
    progress: bool = True,
    desc: str = "train",
    criterion: nn.Module | None = None,
    target_key: str = "y",
) -> pd.DataFrame:
    """Fine-tune `model` in place on `data` (dicts with `image` and the target at `target_key`); returns the
    per-epoch history.

    The loss is cross-entropy weighted by `loss_weights`, unless `criterion` replaces it (e.g. MONAI's
    `DiceCELoss` with `target_key="mask"` for segmentation). Items that are lists of dicts (several random
    patches of one volume) are flattened into the batch. A non-finite loss stops training with an error naming
    the epoch and batch.

    Example:
        >>> history = train(model, train_ds, TrainSettings(epochs=2), head="fc")  # doctest: +SKIP
        >>> list(history.columns)                                                 # doctest: +SKIP
        ['epoch', 'loss', 'lr', 'seconds', 'images_per_s']
    """
    if settings.strategy == "linear_probe" and criterion is None:
        from medtl.engine.probe import train_linear_probe

        return train_linear_probe(model, data, settings, head, loss_weights)
    device = settings.torch_device
    model.to(device)
    loader = DataLoader(data, batch_size=settings.batch_size, shuffle=True, num_workers=settings.num_workers,
                        drop_last=len(data) > settings.batch_size, pin_memory=device.type == "cuda",
                        collate_fn=list_data_collate)
    if criterion is None:
        criterion = nn.CrossEntropyLoss(weight=None if loss_weights is None else loss_weights.to(device))
    elif loss_weights is not None:
        raise ValueError("pass either loss_weights (for the default cross-entropy) or criterion, not both")
    total_steps = settings.epochs * len(loader)
    warmup_steps = settings.warmup_epochs * len(loader)
    rows: list[dict[str, Any]] = []
    phase, optimizer, step = None, None, 0
    for epoch in range(settings.epochs):
        new_phase = phase_for_epoch(settings.strategy, epoch, settings.head_epochs)
        if new_phase != phase:
            phase = new_phase
            optimizer = apply_phase(model, head, phase, settings.lr, settings.weight_decay)
            base_lrs = [g["lr"] for g in optimizer.param_groups]
        set_train_mode(model, head, phase)
        start, seen, loss_sum = time.perf_counter(), 0, 0.0
        bar = tqdm(loader, desc=f"{desc} epoch {epoch + 1}/{settings.epochs}", leave=False, disable=not progress)
        for batch_idx, batch in enumerate(bar):
            factor = lr_factor(step, total_steps, warmup_steps)
            for group, base in zip(optimizer.param_groups, base_lrs):
                group["lr"] = base * factor
            x = batch["image"].to(device, non_blocking=True)
            y = batch[target_key].to(device, non_blocking=True).long()
            with autocast_for(device):
                loss = criterion(model(x).float(), y)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"{desc}: loss became {loss.item()} at epoch {epoch + 1}, batch {batch_idx + 1}; "
                    f"lower train.lr (now {settings.lr}) or check the input intensities"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            seen += len(y)
            loss_sum += loss.item() * len(y)
            bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{optimizer.param_groups[0]['lr']:.1e}")
        seconds = time.perf_counter() - start
        rows.append({"epoch": epoch + 1, "loss": loss_sum / max(seen, 1), "lr": optimizer.param_groups[0]["lr"],
                     "seconds": seconds, "images_per_s": seen / max(seconds, 1e-9)})
    return pd.DataFrame(rows)


@torch.no_grad()
def predict_proba(model: nn.Module, data: Dataset, settings: TrainSettings) -> np.ndarray:
    """Class probabilities (N, C) in the order of `data`.

    Example:
        >>> predict_proba(model, val_ds, TrainSettings()).shape  # doctest: +SKIP
        (12, 2)
    """
    device = settings.torch_device
    model.to(device).eval()
    loader = DataLoader(data, batch_size=settings.batch_size, shuffle=False, num_workers=settings.num_workers)
    out = []
    for batch in loader:
        with autocast_for(device):
            logits = model(batch["image"].to(device))
        out.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))
