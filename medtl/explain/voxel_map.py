"""The explanation a `model.head: lesion_map` classifier carries: its own voxel class probabilities, of which its
case score is the maximum (or mean), so the map is the evidence itself rather than an estimate of it."""
from __future__ import annotations

import torch
import torch.nn as nn

VOXEL_MAP = "voxel_map"


def has_voxel_map(model: nn.Module) -> bool:
    """Whether `model` scores voxels before pooling them (a `medtl.models.lesion_map.LesionMapClassifier`).

    Example:
        >>> has_voxel_map(nn.Conv3d(1, 2, 1))
        False
    """
    return callable(getattr(model, "lesion_map", None))


def voxel_map(model: nn.Module, images: torch.Tensor, class_idx: torch.Tensor | int | None) -> torch.Tensor:
    """(B, *spatial) probability of each image's class (`class_idx`; None: the predicted one) at every voxel.

    Example:
        >>> from medtl.models import create_model
        >>> model = create_model("resnet18_3d", head="lesion_map", encoder_depth=3, pool="max").eval()
        >>> voxel_map(model, torch.zeros(1, 1, 16, 16, 16), 1).shape
        torch.Size([1, 16, 16, 16])
    """
    from medtl.explain.maps import per_image  # maps dispatches to this module

    if not has_voxel_map(model):
        raise ValueError(f"explain.method {VOXEL_MAP} explains a model.head: lesion_map classifier; "
                         f"{type(model).__name__} has no voxel map (choose another explain.method)")
    with torch.no_grad():
        probabilities = torch.softmax(model.lesion_map(images), dim=1)
        classes = per_image(class_idx, model(images))
    return probabilities[torch.arange(len(images)), classes]
