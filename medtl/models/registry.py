"""The backbone registry: names -> `BackboneSpec`, and the builder of each family."""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from torch import nn

from medtl.models.inflate import INFLATABLE, inflate_to_3d, inflated_spec
from medtl.models.monai_3d import MEDICALNET_DEPTHS, MONAI_NAMES, STEMS, build_monai, monai_spec
from medtl.models.pooling import POOLS
from medtl.models.spec import BackboneSpec
from medtl.models.timm_2d import TIMM_PREFIX, build_timm, timm_spec
from medtl.models.torchvision_2d import TORCHVISION_NAMES, build_torchvision, torchvision_spec

I3D_PREFIX = "i3d:"
I3D_NAMES = tuple(f"{I3D_PREFIX}{name}" for name in TORCHVISION_NAMES if name.startswith(INFLATABLE))


def list_backbones() -> list[str]:
    """Every registered backbone name (any timm model is also available as `timm:<name>`).

    Example:
        >>> names = list_backbones()
        >>> "resnet18" in names and "resnet10_3d" in names and "i3d:resnet18" in names
        True
    """
    return [*TORCHVISION_NAMES, *MONAI_NAMES, *I3D_NAMES]


@lru_cache(maxsize=None)
def get_spec(name: str) -> BackboneSpec:
    """The `BackboneSpec` of a registered backbone, or of `timm:<name>` for any timm model.

    Example:
        >>> get_spec("resnet10_3d").spatial_dims
        3
        >>> get_spec("resnet99")
        Traceback (most recent call last):
        ...
        ValueError: backbone must be one of {...}. Got 'resnet99' instead.
    """
    if not isinstance(name, str):
        raise TypeError(f"backbone must be a str. Got {type(name).__name__} instead.")
    if name.startswith(TIMM_PREFIX):
        return timm_spec(name)
    if name in TORCHVISION_NAMES:
        return torchvision_spec(name)
    if name in MONAI_NAMES:
        return monai_spec(name)
    if name in I3D_NAMES:
        return inflated_spec(torchvision_spec(name.removeprefix(I3D_PREFIX)))
    known = ", ".join(repr(n) for n in [*list_backbones(), "timm:<any timm model>"])
    raise ValueError(f"backbone must be one of {{{known}}}. Got {name!r} instead.")


def build_backbone(spec: BackboneSpec, in_chans: int, num_classes: int, stem: str = "stride2",
                   input_size: Sequence[int] | None = None, pool: str = "avg") -> nn.Module:
    """A freshly initialised classification network for `spec` (no pretrained weights).

    `stem` is "stride2" (the default everywhere) or "monai", and `pool` "avg" (the default everywhere), "max" or
    "avgmax": the other values only the MONAI 3D ResNets have (see `build_monai`).
    `input_size` matters to timm transformers, whose position embeddings are built for it.

    Example:
        >>> build_backbone(get_spec("i3d:resnet18"), 1, 2).conv1.weight.shape
        torch.Size([64, 1, 7, 7, 7])
    """
    for key, value, allowed in (("stem", stem, STEMS), ("pool", pool, POOLS)):
        if value not in allowed:
            raise ValueError(f"{key} must be one of {set(allowed)}. Got {value!r} instead.")
        if value != allowed[0] and spec.name not in MEDICALNET_DEPTHS:
            raise ValueError(f"{key}={value!r} applies to the MONAI 3D ResNets {sorted(MEDICALNET_DEPTHS)}, "
                             f"not {spec.name}.")
    if spec.family == "torchvision":
        return build_torchvision(spec, in_chans, num_classes)
    if spec.family == "i3d":
        return inflate_to_3d(build_torchvision(torchvision_spec(spec.architecture), in_chans, num_classes))
    if spec.family == "monai":
        return build_monai(spec, in_chans, num_classes, stem, pool)
    return build_timm(spec, in_chans, num_classes, input_size)
