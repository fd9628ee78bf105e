"""Fine-tuning strategies: which parameters train, and at which learning rate, in a given epoch.

- `full`: every layer trains at `lr` (or, with `train.layer_decay`, less the further a block is from the head:
  one rate per transformer block, per stage of a CNN).
- `linear_probe`: the backbone is frozen (weights and BatchNorm statistics); only the head trains, on the
  vector the head receives (a CNN's pooled features, a ViT's class token or pooled tokens).
- `freeze_unfreeze`: the head alone for `head_epochs`, then every layer, the backbone at `lr / 10`
  (discriminative learning rates, as fastai's `fine_tune` does); with `train.layer_decay` each block then trains
  at `lr / 10 * decay**depth`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from medtl.engine.training.recipe.optim import layer_decay_groups, make_optimizer
from medtl.engine.training.recipe.settings import TrainSettings

STRATEGIES = ("full", "linear_probe", "freeze_unfreeze")
BACKBONE_LR_FACTOR = 0.1


@dataclass(frozen=True)
class Phase:
    """What trains during one stretch of epochs."""

    backbone_trains: bool
    backbone_lr_factor: float


def phase_for_epoch(strategy: str, epoch: int, head_epochs: int) -> Phase:
    """The phase a strategy is in at `epoch` (0-based).

    Example:
        >>> phase_for_epoch("freeze_unfreeze", 0, head_epochs=1).backbone_trains
        False
        >>> phase_for_epoch("freeze_unfreeze", 1, head_epochs=1)
        Phase(backbone_trains=True, backbone_lr_factor=0.1)
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"train.strategy must be one of {set(STRATEGIES)}. Got {strategy!r} instead.")
    if strategy == "linear_probe" or (strategy == "freeze_unfreeze" and epoch < head_epochs):
        return Phase(False, 0.0)
    return Phase(True, BACKBONE_LR_FACTOR if strategy == "freeze_unfreeze" else 1.0)


def split_parameters(model: nn.Module, head: str) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(backbone parameters, head parameters), the head being the module at dotted path `head`.

    Example:
        >>> m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
        >>> [len(p) for p in split_parameters(m, "1")]
        [2, 2]
    """
    head_ids = {id(p) for p in model.get_submodule(head).parameters()}
    backbone = [p for p in model.parameters() if id(p) not in head_ids]
    return backbone, [p for p in model.parameters() if id(p) in head_ids]


def apply_phase(model: nn.Module, head: str, phase: Phase, settings: TrainSettings) -> torch.optim.Optimizer:
    """Freeze or unfreeze the backbone for `phase` and return the configured optimizer (`train.optimizer`) over
    what trains: the head at `lr`, the backbone at `lr * phase.backbone_lr_factor`, or with `train.layer_decay`
    one group per backbone block, each also scaled by that factor (see `medtl.engine.training.recipe.optim`). The head's group
    comes first.

    Example:
        >>> m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
        >>> opt = apply_phase(m, "1", Phase(False, 0.0), TrainSettings(lr=0.1))
        >>> m[0].weight.requires_grad, len(opt.param_groups)
        (False, 1)
    """
    backbone, head_params = split_parameters(model, head)
    for p in backbone:
        p.requires_grad_(phase.backbone_trains)
    if phase.backbone_trains and settings.layer_decay is not None:
        groups = layer_decay_groups(model, head, settings.lr, settings.layer_decay, phase.backbone_lr_factor)
    else:
        groups = [{"params": head_params, "lr": settings.lr}]
        if phase.backbone_trains:
            groups.append({"params": backbone, "lr": settings.lr * phase.backbone_lr_factor})
    return make_optimizer(groups, settings.optimizer, settings.lr, settings.weight_decay)


def set_train_mode(model: nn.Module, head: str, phase: Phase) -> None:
    """Training mode where weights train; a frozen backbone stays in eval mode so its BatchNorm statistics
    are not updated either."""
    if phase.backbone_trains:
        model.train()
    else:
        model.eval()
        model.get_submodule(head).train()
