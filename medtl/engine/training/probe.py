"""Linear probing with cached features: the frozen backbone runs once over the data, then only the head trains,
on the stored feature vectors (seconds instead of minutes). Over a cross-validation the backbone runs once per
case, not once per fold: every fold's model starts from the same pretrained backbone, whose features the
cases' cache keeps."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from medtl.engine.training.checkpoint import load_checkpoint
from medtl.engine.pipeline.datasets import CaseSubset
from medtl.engine.training.epoch_end import end_epoch
from medtl.engine.training.monitor import TrainingMonitor
from medtl.engine.training.objective import FitContext, Objective, reseed
from medtl.engine.training.recipe.optim import make_optimizer
from medtl.engine.training.recipe.schedule import lr_factor
from medtl.engine.training.selection import ModelSelection
from medtl.engine.training.recipe.settings import TrainSettings, autocast_for
from medtl.engine.training.step_losses import StepLosses
from medtl.engine.training.recipe.strategy import phase_for_epoch

PROBE_PHASE = phase_for_epoch("linear_probe", 0, 0)  # what a checkpoint records: the backbone never trains


@torch.no_grad()
def head_inputs(model: nn.Module, head: str, data: Dataset, settings: TrainSettings) -> tuple[torch.Tensor, torch.Tensor]:
    """(features, labels): what the module at `head` receives for every item of `data`, in eval mode.

    For the cases of a `CaseCache` (`CaseSubset`), the features are kept on the cache (`CaseCache.frozen`): a
    later call with a backbone of the same weights, such as the next fold's model built from the same pretrained
    weights, computes only the cases not seen yet.

    Example:
        >>> features, y = head_inputs(model, "fc", train_ds, TrainSettings())  # doctest: +SKIP
        >>> features.shape                                                      # doctest: +SKIP
        torch.Size([60, 512])
    """
    model.to(settings.torch_device).eval()
    if not isinstance(data, CaseSubset):
        return _run_to_head(model, head, data, settings)
    features = data.cache.frozen.features(
        model, head, data.rows, data.transform,
        lambda rows: _run_to_head(model, head, data.cache.subset(rows, data.transform), settings)[0])
    return features, torch.as_tensor(np.array([data.cache.items[row]["y"] for row in data.rows]))


def stored_head_inputs(model: nn.Module, data: Dataset, settings: TrainSettings) -> torch.Tensor | None:
    """The head inputs of `data` when a linear probe has already run this model's backbone over its cache
    (see `head_inputs`), so predicting needs only the head; otherwise None.

    Example:
        >>> stored_head_inputs(model, cache.subset(held_out, pipes.eval), settings).shape  # doctest: +SKIP
        torch.Size([20, 512])
    """
    spec = getattr(model, "spec", None)
    if spec is None or not isinstance(data, CaseSubset) or not data.rows:
        return None
    model.to(settings.torch_device)  # the stored backbone is compared where the features were computed
    if not data.cache.frozen.holds(model, spec.classifier, data.transform):
        return None
    return head_inputs(model, spec.classifier, data, settings)[0]


def _run_to_head(model: nn.Module, head: str, data: Dataset, settings: TrainSettings) -> tuple[torch.Tensor, torch.Tensor]:
    """(features, labels) of every item of `data`, from one pass of the model with the head's inputs captured."""
    device = settings.torch_device
    captured: list[torch.Tensor] = []
    hook = model.get_submodule(head).register_forward_pre_hook(lambda _m, args: captured.append(args[0].float().cpu()))
    labels = []
    try:
        for batch in DataLoader(data, batch_size=settings.batch_size, shuffle=False, num_workers=settings.loader_workers):
            with autocast_for(device, settings.precision):
                model(batch["image"].to(device))
            labels.append(torch.as_tensor(batch["y"]))
    finally:
        hook.remove()
    return torch.cat(captured), torch.cat(labels)


def train_linear_probe(model: nn.Module, data: Dataset, settings: TrainSettings, head: str,
                       objective: Objective | None = None, context: FitContext | None = None) -> pd.DataFrame:
    """Train only the head of `model` on features computed once by its frozen backbone; the backbone's weights
    and BatchNorm statistics never change. Returns the per-epoch history; `objective` and `context` act as in
    `medtl.engine.training.loop.train` (seed, checkpoint and resume, validation, TensorBoard), and so does the error on a
    non-finite loss.

    Example:
        >>> history = train_linear_probe(model, train_ds, TrainSettings(epochs=20), head="fc")  # doctest: +SKIP
    """
    objective, context = objective or Objective(), context or FitContext()
    start = time.perf_counter()
    features, labels = head_inputs(model, head, data, settings)
    extract_seconds = time.perf_counter() - start
    device = settings.torch_device
    features = features.to(device)
    labels = objective.target({objective.target_key: labels}, device)
    classifier = model.get_submodule(head).to(device)
    optimizer = make_optimizer([{"params": classifier.parameters()}], settings.optimizer, settings.lr,
                               settings.weight_decay)
    criterion = objective.loss(device)
    sample_weights = objective.sample_weights
    draw = None if sample_weights is None else torch.as_tensor(sample_weights, dtype=torch.double)
    n, batch = len(labels), settings.batch_size
    steps_per_epoch = -(-n // batch)
    total, warmup = settings.epochs * steps_per_epoch, settings.warmup_epochs * steps_per_epoch
    selection, monitor = ModelSelection(settings.patience), TrainingMonitor.create(settings.tensorboard, context.log_dir)
    resumed = load_checkpoint(context.checkpoint, model) if context.checkpoint is not None else None
    rows, first_epoch = (resumed.history, resumed.epoch) if resumed else ([], 0)
    if resumed:
        optimizer.load_state_dict(resumed.optimizer_state)
        if resumed.selection:
            selection.load_state_dict(resumed.selection)
    step, validation = first_epoch * steps_per_epoch, context.validation
    for epoch in range(first_epoch, settings.epochs):
        if validation is not None and selection.should_stop:
            break
        if context.seed is not None:
            reseed(data, context.seed, epoch)
        classifier.train()
        epoch_start = time.perf_counter()
        losses = StepLosses.for_device(device, context.desc, epoch + 1, settings.lr)
        # Batches are index slices of the stored features: shuffled, or drawn with replacement in proportion
        # to the sample weights as torch's WeightedRandomSampler draws them.
        order = torch.randperm(n) if draw is None else torch.multinomial(draw, n, replacement=True)
        for batch_idx, first in enumerate(range(0, n, batch)):
            index = order[first:first + batch].to(device)
            for group in optimizer.param_groups:
                group["lr"] = settings.lr * lr_factor(step, total, warmup, settings.schedule)
            loss = criterion(classifier(features[index]), labels[index])
            losses.add(loss, len(index), batch_idx + 1, step, optimizer.param_groups[0]["lr"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        losses.read()
        seconds = time.perf_counter() - epoch_start + (extract_seconds if epoch == first_epoch else 0.0)
        row = {"epoch": epoch + 1, "loss": losses.mean, "lr": optimizer.param_groups[0]["lr"],
               "seconds": seconds, "images_per_s": n / max(seconds, 1e-9)}
        end_epoch(row, rows, model, optimizer, epoch, PROBE_PHASE, context, selection, validation, monitor)
    monitor.close()
    model.eval()
    if validation is not None and settings.select_best:
        selection.restore_best(model)
    return pd.DataFrame(rows)
