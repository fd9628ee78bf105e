"""The learning-rate range test (L. Smith, "Cyclical learning rates", 2017; fastai's `lr_find`): train for a
few steps while the learning rate grows exponentially, record the loss, stop when it diverges, and suggest the
rate where the loss falls fastest.

Written by hand rather than on `monai.optimizers.LearningRateFinder`, which measures a different run than the
one medtl trains (checked in tests/test_engine_lr_find.py): it sets every parameter group to the same rate, so
layer-wise decay and discriminative rates collapse to a ratio of 1.0; it calls `model.train()` on every batch,
so a frozen backbone's BatchNorm statistics move during a freeze_unfreeze or linear_probe sweep; it has no
bf16 autocast (apex AMP only); and a NaN loss does not stop it (20 of 20 steps recorded). Here each group keeps
its ratio, the strategy's train/eval modes and the configured precision apply, and a non-finite loss ends the
sweep.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from medtl.config import ExperimentConfig
from medtl.engine.workflows.cohort import load_table
from medtl.engine.pipeline.datasets import case_items
from medtl.engine.tasks.imbalance import balancing
from medtl.engine.tasks.labels import resolve_classes
from medtl.engine.training.loop import training_loader
from medtl.engine.tasks.segmentation import SEG_CLASSES, SegSettings, segmentation_loss, training_pipeline
from medtl.engine.training.recipe.settings import TrainSettings, autocast_for
from medtl.engine.training.setup import Pipelines, build_model, case_cache
from medtl.engine.training.recipe.strategy import apply_phase, phase_for_epoch, set_train_mode
from medtl.engine.training.training_plots import plot_lr_find

SMOOTHING = 0.98  # exponential moving average of the loss, debiased (fastai's default)


@dataclass
class LRFindResult:
    """The sweep: learning rate, raw and smoothed loss per step, and the suggested learning rates.

    `steepest` is where the smoothed loss falls fastest against log(lr) before its minimum; `min_loss_lr` is
    the rate of the minimum loss divided by 10. `suggestion` is `steepest`.

    Example:
        >>> result = lr_find(model, train_ds, TrainSettings(), head="fc")  # doctest: +SKIP
        >>> result.suggestion                                             # doctest: +SKIP
        0.0021
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    steepest: float
    min_loss_lr: float

    @property
    def suggestion(self) -> float:
        return self.steepest

    def to_frame(self) -> pd.DataFrame:
        """One row per step: lr, loss, smoothed_loss."""
        return pd.DataFrame({"lr": self.lrs, "loss": self.losses, "smoothed_loss": self.smoothed})


def suggest(lrs: np.ndarray, smoothed: np.ndarray) -> tuple[float, float]:
    """(steepest descent, minimum / 10) of a smoothed loss curve over increasing learning rates. The steepest
    descent is sought between the first tenth of the sweep (where the smoothing has seen few batches) and the
    minimum; without room for it, both are minimum / 10. Neither is below the first rate swept: a rate that
    was never tried is never suggested.

    Example:
        >>> lrs = np.logspace(-5, 0, 6)
        >>> suggest(lrs, np.array([1.0, 0.99, 0.6, 0.5, 0.45, 3.0]))
        (0.001, 0.01)
    """
    best = int(np.argmin(smoothed))
    min_loss_lr = float(max(lrs[best] / 10, lrs[0]))
    skip = len(lrs) // 10
    if best - skip < 2:
        return min_loss_lr, min_loss_lr
    slopes = np.gradient(smoothed[skip: best + 1], np.log10(lrs[skip: best + 1]))
    return float(lrs[skip + int(np.argmin(slopes))]), min_loss_lr


def lr_find(model: nn.Module, data: Dataset, settings: TrainSettings, head: str,
            loss_weights: torch.Tensor | None = None, sample_weights: Sequence[float] | None = None,
            criterion: nn.Module | None = None, target_key: str = "y", start_lr: float = 1e-7, end_lr: float = 10.0,
            steps: int = 100, diverge: float = 4.0, progress: bool = True) -> LRFindResult:
    """Sweep the learning rate from `start_lr` to `end_lr` exponentially over at most `steps` optimizer steps
    (cycling through `data` as often as needed) and stop once the smoothed loss exceeds `diverge` times its
    minimum or is no longer finite. Trains what the strategy's first epoch trains, with the configured
    optimizer, precision, imbalance handling and layer-wise decay (each group keeps its ratio to the swept lr);
    `model` gets its initial weights back at the end.

    Example:
        >>> lr_find(model, train_ds, TrainSettings(batch_size=8), head="fc", steps=60).suggestion  # doctest: +SKIP
        0.0021
    """
    if not 0 < start_lr < end_lr or steps < 2:
        raise ValueError(f"lr_find needs 0 < start_lr < end_lr and at least 2 steps; got start_lr={start_lr}, "
                         f"end_lr={end_lr}, steps={steps}")
    device = settings.torch_device
    model.to(device)
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
    phase = phase_for_epoch(settings.strategy, 0, settings.head_epochs)
    optimizer = apply_phase(model, head, phase, dataclasses.replace(settings, lr=1.0))
    ratios = [group["lr"] for group in optimizer.param_groups]
    set_train_mode(model, head, phase)
    if criterion is None:
        criterion = nn.CrossEntropyLoss(weight=None if loss_weights is None else loss_weights.to(device))
    loader = training_loader(data, settings, sample_weights=sample_weights)
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(steps) / (steps - 1))
    losses, smoothed, average = [], [], 0.0
    batches = _cycle(loader)
    for step in tqdm(range(steps), desc="lr-find", leave=False, disable=not progress):
        for group, ratio in zip(optimizer.param_groups, ratios):
            group["lr"] = ratio * lrs[step]
        batch = next(batches)
        x, y = batch["image"].to(device), batch[target_key].to(device).long()
        with autocast_for(device, settings.precision):
            loss = criterion(model(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value = loss.item()
        average = SMOOTHING * average + (1 - SMOOTHING) * value
        losses.append(value)
        smoothed.append(average / (1 - SMOOTHING ** (step + 1)))
        if not math.isfinite(smoothed[-1]) or smoothed[-1] > diverge * min(smoothed):
            break
    model.load_state_dict(initial)
    lrs, losses, smoothed = lrs[: len(losses)], np.array(losses), np.array(smoothed)
    steepest, min_loss_lr = suggest(lrs, np.where(np.isfinite(smoothed), smoothed, np.inf))
    return LRFindResult(lrs, losses, smoothed, steepest, min_loss_lr)


def _cycle(loader: torch.utils.data.DataLoader):
    """The loader's batches, epoch after epoch, without end."""
    while True:
        yield from loader


def run_lr_find(cfg: ExperimentConfig, out: str | Path, start_lr: float = 1e-7, end_lr: float = 10.0,
                steps: int = 100, progress: bool = True) -> LRFindResult:
    """The range test on `cfg`'s model and every case under `data.root` (classification or segmentation, the
    training augmentation on); writes lr_find.csv (lr, loss, smoothed_loss) and lr_find.png into `out`.

    Example:
        >>> run_lr_find(ExperimentConfig.from_yaml("configs/demo_xray.yaml"), "runs/lr").suggestion  # doctest: +SKIP
        0.0021
    """
    settings = TrainSettings.from_config(cfg)
    table = load_table(cfg)
    torch.manual_seed(cfg["seed"])
    rows = np.arange(len(table))
    if cfg["task"] == "segmentation":
        pipes = Pipelines.from_config(cfg, with_mask=True)
        cache = case_cache(cfg, case_items(table, table.classes, with_mask=True), pipes, progress)
        seg = SegSettings.from_config(cfg, pipes.input_size)
        model = build_model(cfg, SEG_CLASSES)
        result = lr_find(model, cache.subset(rows, training_pipeline(pipes, seg)), settings, model.spec.classifier,
                         criterion=segmentation_loss(seg.loss), target_key="mask", start_lr=start_lr, end_lr=end_lr,
                         steps=steps, progress=progress)
    else:
        classes, _ = resolve_classes(table, cfg["data.positive_label"])
        pipes = Pipelines.from_config(cfg)
        items = case_items(table, classes, with_mask=False)
        cache = case_cache(cfg, items, pipes, progress)
        balance = balancing(settings.imbalance, np.array([item["y"] for item in items]), len(classes))
        model = build_model(cfg, len(classes))
        result = lr_find(model, cache.subset(rows, pipes.train), settings, model.spec.classifier,
                         loss_weights=balance.loss_weights, sample_weights=balance.sample_weights,
                         start_lr=start_lr, end_lr=end_lr, steps=steps, progress=progress)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result.to_frame().to_csv(out / "lr_find.csv", index=False)
    plot_lr_find(result.lrs, result.smoothed, {"steepest descent": result.steepest,
                                                 "min loss / 10": result.min_loss_lr}, out / "lr_find.png")
    return result
