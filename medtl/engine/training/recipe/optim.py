"""Optimizers and layer-wise learning-rate decay.

Layer-wise decay (as in timm's `param_groups_layer_decay`, BEiT/ViT fine-tuning) trains the head at the full
learning rate and each backbone stage below it at a further `decay` times less, so generic early features
change least. The stages are the backbone's blocks from its `BackboneSpec`: every transformer block of a timm
ViT / DeiT / DINOv2 / Swin and every ConvNeXt block (one rate per block, as timm's own decay assigns them),
else the feature layers a U-Net decoder reads (stem, then each resolution stage); a plain module without a spec
uses its top-level children.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

OPTIMIZERS = ("adamw", "sgd")
SGD_MOMENTUM = 0.9
# Devices with torch's fused optimizer kernels: one pass over each parameter per step instead of a chain of
# per-tensor operations (on the CPU, a ResNet-18 AdamW step takes 5.6 instead of 27 ms).
FUSED_DEVICES = ("cpu", "cuda")


def make_optimizer(groups: Iterable[dict[str, Any]], name: str, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW, or SGD with Nesterov momentum 0.9, over parameter `groups` (each may carry its own "lr"); fused
    when every parameter is a floating-point tensor on a device in `FUSED_DEVICES`.

    Example:
        >>> optimizer = make_optimizer([{"params": nn.Linear(2, 1).parameters()}], "sgd", 0.1, 0.0)
        >>> optimizer.defaults["nesterov"], optimizer.defaults["fused"]
        (True, True)
    """
    groups = [dict(group, params=list(group["params"])) for group in groups]
    fused = all(p.device.type in FUSED_DEVICES and p.is_floating_point() for g in groups for p in g["params"])
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay, fused=fused or None)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=SGD_MOMENTUM, nesterov=True, weight_decay=weight_decay,
                               fused=fused or None)
    raise ValueError(f"train.optimizer must be one of {list(OPTIMIZERS)}. Got {name!r} instead.")


def backbone_stages(model: nn.Module, head: str) -> list[str]:
    """The backbone's stages, input to output: `model.spec.blocks` when the model carries a `BackboneSpec`
    (models from `medtl.models.create_model`), else the top-level children other than the head.

    Example:
        >>> backbone_stages(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 1)), head="2")
        ['0', '1']
    """
    spec = getattr(model, "spec", None)
    if spec is not None:
        return list(spec.blocks)
    return [name for name, _ in model.named_children() if name != head]


def stage_depths(model: nn.Module, head: str, stages: list[str]) -> dict[str, int]:
    """Each parameter's depth below the head: 0 for the head and for whatever follows the last stage (a final
    norm, a decoder), 1 for the last stage, ..., len(stages) for the first stage and everything before it (the
    stem). A parameter belongs to the first stage whose module, or a module before it, owns the parameter, in
    the order modules are registered.

    Example:
        >>> m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 1))
        >>> stage_depths(m, "2", ["0", "1"])
        {'0.weight': 2, '0.bias': 2, '1.weight': 1, '1.bias': 1, '2.weight': 0, '2.bias': 0}
    """
    order = [name for name, _ in model.named_modules()]
    position = {name: i for i, name in enumerate(order)}
    missing = [s for s in stages if s not in position]
    if missing:
        raise ValueError(f"backbone stages {missing} are not modules of the model")
    # the last module inside each stage's subtree, so every parameter up to it belongs to that stage or earlier
    ends = [max(position[n] for n in order if n == s or n.startswith(f"{s}.")) for s in stages]
    depths = {}
    for name, _ in model.named_parameters():
        owner = name.rpartition(".")[0]
        in_head = owner == head or owner.startswith(f"{head}.")
        stage = next((i for i, end in enumerate(ends) if position[owner] <= end), len(stages))
        depths[name] = 0 if in_head else len(stages) - stage
    return depths


def layer_decay_groups(model: nn.Module, head: str, lr: float, decay: float,
                       backbone_factor: float = 1.0) -> list[dict[str, Any]]:
    """Parameter groups with lr * decay**depth (see `stage_depths`), the head's group first, then deeper
    groups in order, each labelled with its "depth"; every backbone group (depth > 0) is further scaled by
    `backbone_factor` (freeze_unfreeze's lower backbone rate). Frozen parameters are left out.

    Example:
        >>> m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 1))
        >>> [g["lr"] for g in layer_decay_groups(m, "2", lr=1.0, decay=0.5)]
        [1.0, 0.5, 0.25]
    """
    depths = stage_depths(model, head, backbone_stages(model, head))
    by_depth: dict[int, list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            by_depth.setdefault(depths[name], []).append(param)
    return [{"params": by_depth[d], "lr": lr * decay**d * (backbone_factor if d else 1.0), "depth": d}
            for d in sorted(by_depth)]
