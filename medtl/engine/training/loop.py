"""The training and inference loops shared by classification CV, segmentation CV, source pretraining and
`Classifier`."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from monai.data import list_data_collate
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, WeightedRandomSampler
from tqdm.auto import tqdm

from medtl.engine.training.checkpoint import load_checkpoint
from medtl.engine.training.epoch_end import end_epoch
from medtl.engine.training.distributed import is_distributed, sync_buffers
from medtl.engine.training.monitor import TrainingMonitor
from medtl.engine.training.objective import FitContext, Objective, reseed
from medtl.engine.training.probe import stored_head_inputs, train_linear_probe
from medtl.engine.training.recipe.schedule import lr_factor
from medtl.engine.training.selection import ModelSelection
from medtl.engine.training.recipe.settings import TrainSettings, autocast_for, memory_format_for
from medtl.engine.training.step_losses import StepLosses
from medtl.engine.training.recipe.strategy import apply_phase, phase_for_epoch, set_train_mode


def training_loader(data: Dataset, settings: TrainSettings, seed: int | None = None,
                    sample_weights: Sequence[float] | None = None) -> DataLoader:
    """Training batches of `data`: shuffled, sharded across processes under DDP, or, with `sample_weights`
    (one per item), drawn with replacement in proportion to them (torch's `WeightedRandomSampler`).

    Example:
        >>> loader = training_loader(train_ds, TrainSettings(batch_size=8), sample_weights=weights)  # doctest: +SKIP
    """
    sampler = None
    if sample_weights is not None:
        if is_distributed():
            raise ValueError("train.imbalance sampler does not combine with DDP (torchrun), whose processes each "
                             "draw a shard of the data; use train.imbalance loss")
        if len(sample_weights) != len(data):
            raise ValueError(f"{len(sample_weights)} sample weights for {len(data)} training items")
        sampler = WeightedRandomSampler(torch.as_tensor(sample_weights, dtype=torch.double), num_samples=len(data))
    elif is_distributed():
        sampler = DistributedSampler(data, shuffle=True, seed=seed or 0)
    return DataLoader(data, batch_size=settings.batch_size, shuffle=sampler is None, sampler=sampler,
                      num_workers=settings.loader_workers, drop_last=len(data) > settings.batch_size,
                      pin_memory=settings.torch_device.type == "cuda", collate_fn=list_data_collate)


def train(
    model: nn.Module,
    data: Dataset,
    settings: TrainSettings,
    head: str,
    objective: Objective | None = None,
    context: FitContext | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Fine-tune `model` in place on `data` (dicts with `image` and the target the `objective` names); returns
    the per-epoch history.

    `objective` (default: cross-entropy over `y`) says what is learnt: the loss, the target, class balancing.
    Items that are lists of dicts (several random patches of one volume) are flattened into the batch. A
    non-finite loss stops training with an error naming the epoch and batch. Optimizer, schedule, precision,
    memory layout and `torch.compile` follow `settings`; `train.strategy: linear_probe` trains the head alone on
    stored backbone features (`medtl.engine.training.probe`).

    `context` says how the fit runs: with its `validation`, the metric is measured after every epoch and added to
    the history; the best epoch's weights are restored at the end (`settings.select_best`) and training stops
    after `settings.patience` epochs without improvement. With its `seed`, every epoch starts by reseeding torch
    and the dataset's random transforms from (seed, epoch), so a run is repeatable on the CPU. With its
    `checkpoint` (a folder), every finished epoch is saved there (validation state included) and a later call
    resumes after the last saved epoch, ending with the same weights as an uninterrupted run. With
    `settings.tensorboard`, loss, lr and the history go to TensorBoard event files in its `log_dir`.

    Under `torchrun` (see `medtl.engine.training.distributed`) each process trains on its shard of `data` with DDP and
    all end with identical weights; only rank 0 writes checkpoints.

    Example:
        >>> history = train(model, train_ds, TrainSettings(epochs=2), head="fc")  # doctest: +SKIP
        >>> list(history.columns)                                                 # doctest: +SKIP
        ['epoch', 'loss', 'lr', 'seconds', 'images_per_s']
    """
    objective, context = objective or Objective(), context or FitContext()
    if settings.strategy == "linear_probe" and objective.target_key == "y":
        return train_linear_probe(model, data, settings, head, objective, context)
    device = settings.torch_device
    memory_format = memory_format_for(settings.channels_last, device, model)
    model.to(device, memory_format=memory_format or torch.preserve_format)
    loader = training_loader(data, settings, context.seed, objective.sample_weights)
    criterion = objective.loss(device)
    total_steps, warmup_steps = settings.epochs * len(loader), settings.warmup_epochs * len(loader)
    resumed = load_checkpoint(context.checkpoint, model) if context.checkpoint is not None else None
    rows: list[dict[str, Any]] = resumed.history if resumed else []
    first_epoch = resumed.epoch if resumed else 0
    selection = ModelSelection(settings.patience)
    if resumed and resumed.selection:
        selection.load_state_dict(resumed.selection)
    validation = context.validation
    monitor = TrainingMonitor.create(settings.tensorboard, context.log_dir)
    phase, optimizer, step = None, None, first_epoch * len(loader)
    for epoch in range(first_epoch, settings.epochs):
        if validation is not None and selection.should_stop:
            break
        if context.seed is not None:
            reseed(data, context.seed, epoch)
        if isinstance(loader.sampler, DistributedSampler):
            loader.sampler.set_epoch(epoch)
        new_phase = phase_for_epoch(settings.strategy, epoch, settings.head_epochs)
        if new_phase != phase:
            phase = new_phase
            optimizer = apply_phase(model, head, phase, settings)
            base_lrs = [g["lr"] for g in optimizer.param_groups]
            forward = _training_forward(model, settings.compile)
            if resumed and epoch == first_epoch and resumed.phase == (phase.backbone_trains, phase.backbone_lr_factor):
                optimizer.load_state_dict(resumed.optimizer_state)
        set_train_mode(model, head, phase)
        start, seen = time.perf_counter(), 0
        losses = StepLosses.for_device(device, context.desc, epoch + 1, settings.lr)
        bar = tqdm(loader, desc=f"{context.desc} epoch {epoch + 1}/{settings.epochs}", leave=False,
                   disable=not progress)
        for batch_idx, batch in enumerate(bar):
            for group, base in zip(optimizer.param_groups, base_lrs):
                group["lr"] = base * lr_factor(step, total_steps, warmup_steps, settings.schedule)
            x = batch["image"].to(device, non_blocking=True, memory_format=memory_format or torch.preserve_format)
            y = objective.target(batch, device)
            with autocast_for(device, settings.precision):
                loss = criterion(forward(x).float(), y)
            read = losses.add(loss, len(y), batch_idx + 1, step, optimizer.param_groups[0]["lr"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            seen += len(y)
            _report(monitor, bar, read, seen / (time.perf_counter() - start))
            step += 1
        _report(monitor, bar, losses.read(), seen / (time.perf_counter() - start))
        seconds = time.perf_counter() - start
        row = {"epoch": epoch + 1, "loss": losses.mean, "lr": optimizer.param_groups[0]["lr"],
               "seconds": seconds, "images_per_s": seen / max(seconds, 1e-9)}
        end_epoch(row, rows, model, optimizer, epoch, phase, context, selection, validation, monitor)
    monitor.close()
    sync_buffers(model)
    if validation is not None and settings.select_best:
        selection.restore_best(model)
    return pd.DataFrame(rows)


def _report(monitor: TrainingMonitor, bar: tqdm, read: list[tuple[int, float, float]], images_per_s: float) -> None:
    for step, value, lr in read:
        monitor.step(bar, step, value, lr, images_per_s)


def _training_forward(model: nn.Module, compile_model: bool) -> nn.Module:
    """The module the training steps call: `model`, wrapped in DDP under torchrun, compiled on request."""
    forward = DistributedDataParallel(model) if is_distributed() else model
    return torch.compile(forward) if compile_model else forward


@torch.no_grad()
def predict_proba(model: nn.Module, data: Dataset, settings: TrainSettings,
                  activation: Callable[[torch.Tensor], torch.Tensor] = partial(torch.softmax, dim=1)) -> np.ndarray:
    """Class probabilities (N, C) in the order of `data`: the softmax of the logits, or their `activation`
    (`torch.sigmoid` for independent findings). When a linear probe has stored this model's backbone features
    for the cases of `data` (`medtl.engine.training.probe.stored_head_inputs`), only the head runs.

    Example:
        >>> predict_proba(model, val_ds, TrainSettings()).shape  # doctest: +SKIP
        (12, 2)
    """
    device = settings.torch_device
    model.to(device).eval()
    features = stored_head_inputs(model, data, settings)
    if features is not None:
        logits = model.get_submodule(model.spec.classifier)(features.to(device))
        return activation(logits.float()).cpu().numpy()
    loader = DataLoader(data, batch_size=settings.batch_size, shuffle=False, num_workers=settings.loader_workers)
    out = []
    for batch in loader:
        with autocast_for(device, settings.precision):
            logits = model(batch["image"].to(device))
        out.append(activation(logits.float()).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))
