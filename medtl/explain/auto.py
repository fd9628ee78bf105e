"""`explain.method: auto` and `explain.target_layer: auto`: the saliency method and layer measured to point at
lesions best, per backbone family and input size, within the cost limit (benchmarks/SALIENCY.md)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch.nn as nn

from medtl.explain.maps import CAM_METHODS, METHODS
from medtl.explain.voxel_map import VOXEL_MAP, has_voxel_map

AUTO = "auto"
# (backbone family, spatial dims) -> {input side: (method, layer)}, from `make bench-saliency`
# (benchmarks/SALIENCY.md): the best pointing game among methods costing at most 5x an inference pass in 2D and
# 10x in 3D, on the cohort the choice was made on; the second cohort's numbers are in the same table, and a third
# chest cohort run through `medtl cv` (`make bench-saliency-cv`, benchmarks/SALIENCY_CV.md) checks the 64^2 choice.
# At 224^2 the benchmark measures cost only (its fine-tuning did not learn there), so that size takes the nearest
# measured choice (128^2). 3D: the benchmark's 3D ResNet did not learn; on a pooled 3D ResNet-18 classifier that
# did (`medtl demo mri`, an earlier default), verified maps peaked in the lesion for 18 of 20 lesion volumes
# (Grad-CAM at layer1: none). A lesion-map classifier (configs/mri_cls_3d.yaml) is explained by its own voxel map.
MEASURED: dict[tuple[str, int], dict[int, tuple[str, str | None]]] = {
    ("cnn", 2): {64: ("verified", None), 128: ("verified", None)},
    ("cnn", 3): {96: ("verified", None)},
}


@dataclass(frozen=True)
class SaliencyChoice:
    """The method and layer a run explains with, and how they were chosen.

    Example:
        >>> SaliencyChoice("gradxinput", None, "auto").as_dict()["method"]
        'gradxinput'
    """

    method: str
    target_layer: str | None
    chosen_by: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_method(method: str) -> None:
    """A clear error for an `explain.method` medtl does not have.

    Example:
        >>> check_method("auto")
    """
    if method != AUTO and method not in METHODS:
        raise ValueError(f"explain.method must be a str among {sorted({AUTO, *METHODS})}. Got {method!r} instead.")


def backbone_family(model: nn.Module) -> str:
    """"transformer" for timm vision transformers (a `patch_embed` module), "cnn" otherwise.

    Example:
        >>> backbone_family(nn.Conv2d(1, 1, 1))
        'cnn'
    """
    return "transformer" if hasattr(model, "patch_embed") else "cnn"


def choose_saliency(method: str | None, target_layer: str | None, model: nn.Module,
                    input_shape: tuple[int, ...]) -> SaliencyChoice:
    """Resolve `explain.method` / `explain.target_layer` ("auto", None or a name) for `model` at `input_shape`
    (the spatial size of its input).

    "auto" methods come from `MEASURED` (the nearest measured input side of the backbone family; families not
    measured use the CNN's, and `chosen_by` says so); a CAM method with an "auto" or empty layer explains the layer measured best for it, else the backbone spec's
    `target_layer`; input methods explain no layer. A `model.head: lesion_map` classifier is explained by its own
    voxel map (`medtl.explain.voxel_map`): its score is that map's maximum.

    Example:
        >>> choose_saliency("auto", "auto", nn.Conv2d(1, 1, 1), (64, 64)).method
        'verified'
    """
    method = method or AUTO
    check_method(method)
    if method == AUTO and has_voxel_map(model):
        return SaliencyChoice(VOXEL_MAP, None, "auto: the model's own voxel map (model.head lesion_map)")
    dims, side = len(input_shape), min(input_shape)
    own = backbone_family(model)
    family = own if (own, dims) in MEASURED else "cnn"
    table = MEASURED[(family, dims)]
    nearest = min(table, key=lambda measured: abs(measured - side))
    measured_method, measured_layer = table[nearest]
    unmeasured = "" if family == own else f" ({own} not measured)"
    by = [f"auto: best measured on {family} {dims}D at {nearest}^{dims}{unmeasured} (benchmarks/SALIENCY.md)"
          if method == AUTO else "explain.method"]
    method = measured_method if method == AUTO else method
    if method not in CAM_METHODS:
        return SaliencyChoice(method, None, by[0])
    if target_layer and target_layer != AUTO:
        return SaliencyChoice(method, target_layer, f"{by[0]}; layer from explain.target_layer")
    if measured_method == method and measured_layer:
        return SaliencyChoice(method, measured_layer, f"{by[0]}; layer measured")
    spec = getattr(model, "spec", None)
    layer = getattr(spec, "target_layer", None)
    if not layer:
        raise ValueError(f"explain.method {method!r} needs explain.target_layer: {type(model).__name__} names none")
    return SaliencyChoice(method, layer, f"{by[0]}; layer from the backbone spec")
