"""Linear probing with cached features: the frozen backbone runs once over the data, then only the head trains,
on the stored feature vectors (seconds instead of minutes)."""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset, WeightedRandomSampler

from medtl.engine.monitor import TrainingMonitor
from medtl.engine.optim import make_optimizer
from medtl.engine.schedule import lr_factor
from medtl.engine.selection import ModelSelection, Validation
from medtl.engine.settings import TrainSettings, autocast_for


@torch.no_grad()
def head_inputs(model: nn.Module, head: str, data: Dataset, settings: TrainSettings) -> tuple[torch.Tensor, torch.Tensor]:
    """(features, labels): what the module at `head` receives for every item of `data`, in eval mode.

    Example:
        >>> features, y = head_inputs(model, "fc", train_ds, TrainSettings())  # doctest: +SKIP
        >>> features.shape                                                      # doctest: +SKIP
        torch.Size([60, 512])
    """
    device = settings.torch_device
    model.to(device).eval()
    captured: list[torch.Tensor] = []
    hook = model.get_submodule(head).register_forward_pre_hook(lambda _m, args: captured.append(args[0].float().cpu()))
    labels = []
    try:
        for batch in DataLoader(data, batch_size=settings.batch_size, shuffle=False, num_workers=settings.loader_workers):
            with autocast_for(device, settings.precision):
                model(batch["image"].to(device))
            labels.append(torch.as_tensor(batch["y"]).long())
    finally:
        hook.remove()
    return torch.cat(captured), torch.cat(labels)


def train_linear_probe(model: nn.Module, data: Dataset, settings: TrainSettings, head: str,
                       loss_weights: torch.Tensor | None = None, sample_weights: Sequence[float] | None = None,
                       validation: Validation | None = None, log_dir: Path | None = None) -> pd.DataFrame:
    """Train only the head of `model` on features computed once by its frozen backbone; the backbone's weights
    and BatchNorm statistics never change. Returns the per-epoch history; `sample_weights`, `validation` and
    `log_dir` act as in `medtl.engine.loop.train`.

    Example:
        >>> history = train_linear_probe(model, train_ds, TrainSettings(epochs=20), head="fc")  # doctest: +SKIP
    """
    start = time.perf_counter()
    features, labels = head_inputs(model, head, data, settings)
    extract_seconds = time.perf_counter() - start
    device = settings.torch_device
    classifier = model.get_submodule(head).to(device)
    optimizer = make_optimizer([{"params": classifier.parameters()}], settings.optimizer, settings.lr,
                               settings.weight_decay)
    criterion = nn.CrossEntropyLoss(weight=None if loss_weights is None else loss_weights.to(device))
    sampler = None if sample_weights is None else WeightedRandomSampler(
        torch.as_tensor(sample_weights, dtype=torch.double), num_samples=len(labels))
    loader = DataLoader(TensorDataset(features, labels), batch_size=settings.batch_size, shuffle=sampler is None,
                        sampler=sampler)
    total, warmup = settings.epochs * len(loader), settings.warmup_epochs * len(loader)
    selection, monitor = ModelSelection(settings.patience), TrainingMonitor.create(settings.tensorboard, log_dir)
    rows, step = [], 0
    for epoch in range(settings.epochs):
        if validation is not None and selection.should_stop:
            break
        classifier.train()
        epoch_start, loss_sum = time.perf_counter(), 0.0
        for x, y in loader:
            for group in optimizer.param_groups:
                group["lr"] = settings.lr * lr_factor(step, total, warmup, settings.schedule)
            loss = criterion(classifier(x.to(device)), y.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            loss_sum += loss.item() * len(y)
        seconds = time.perf_counter() - epoch_start + (extract_seconds if epoch == 0 else 0.0)
        row = {"epoch": epoch + 1, "loss": loss_sum / len(labels), "lr": optimizer.param_groups[0]["lr"],
               "seconds": seconds, "images_per_s": len(labels) / max(seconds, 1e-9)}
        if validation is not None:
            selection.validate(validation, model, row)
        rows.append(row)
        monitor.epoch(row)
    monitor.close()
    model.eval()
    if validation is not None and settings.select_best:
        selection.restore_best(model)
    return pd.DataFrame(rows)
