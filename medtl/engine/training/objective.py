"""What a training run optimises and how it is driven, as two small values `train` takes besides its settings.

`Objective` is the task's side (the loss, where the target sits in a batch, class balancing); `FitContext` is
the run's side (seed, checkpoint folder, inner validation, TensorBoard folder, progress label).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from medtl.engine.training.selection import Validation


@dataclass(frozen=True)
class Objective:
    """The loss a model trains on: cross-entropy over class indices at `target_key` (weighted by `loss_weights`)
    unless `criterion` replaces it; `float_targets` passes the target as float (e.g. 0/1 finding vectors for a
    binary cross-entropy); `sample_weights` (one per training item) draw batches with replacement instead of
    shuffling (see `medtl.engine.tasks.imbalance`).

    Example:
        >>> Objective(loss_weights=torch.tensor([1.0, 3.0])).loss(torch.device("cpu")).weight
        tensor([1., 3.])
    """

    criterion: nn.Module | None = None
    target_key: str = "y"
    loss_weights: torch.Tensor | None = None
    sample_weights: Sequence[float] | None = None
    float_targets: bool = False

    def __post_init__(self) -> None:
        if self.criterion is not None and self.loss_weights is not None:
            raise ValueError("pass either loss_weights (for the default cross-entropy) or criterion, not both")

    def loss(self, device: torch.device) -> nn.Module:
        """The loss module on `device`."""
        if self.criterion is not None:
            return self.criterion.to(device)
        return nn.CrossEntropyLoss(weight=None if self.loss_weights is None else self.loss_weights.to(device))

    def target(self, batch: dict, device: torch.device) -> torch.Tensor:
        """The batch's target on `device`, as the loss expects it."""
        y = batch[self.target_key].to(device, non_blocking=True)
        return y.float() if self.float_targets else y.long()


@dataclass(frozen=True)
class FitContext:
    """How one fit is run and recorded: with `seed`, every epoch reseeds torch and the data's random transforms
    from (seed, epoch); with `checkpoint` (a folder), every finished epoch is saved there and a later fit
    resumes after it; `validation` is measured after every epoch; with `train.tensorboard`, event files go to
    `log_dir`; `desc` labels progress bars and errors.

    Example:
        >>> FitContext(seed=3, desc="fold 1/5").desc
        'fold 1/5'
    """

    seed: int | None = None
    checkpoint: Path | None = None
    validation: Validation | None = None
    log_dir: Path | None = None
    desc: str = "train"


def reseed(data: object, seed: int, epoch: int) -> None:
    """Seed torch (shuffling, sampling, dropout) and the MONAI random transforms of `data` for `epoch`, so an
    epoch draws the same whether or not the run was interrupted before it.

    Example:
        >>> reseed([], seed=3, epoch=0); torch.rand(1).item() == (reseed([], 3, 0) or torch.rand(1).item())
        True
    """
    torch.manual_seed(seed * 100_003 + epoch)
    transform = getattr(data, "transform", None)
    if hasattr(transform, "set_random_state"):
        transform.set_random_state(seed * 100_003 + epoch)
