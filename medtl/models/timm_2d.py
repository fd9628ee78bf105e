"""`timm:<name>`: any timm model, its spec read from timm's own pretrained config and feature info."""
from __future__ import annotations

import os
from urllib.parse import urlparse

import torch
from torch import nn

from medtl.errors import MissingExtraError
from medtl.models.spec import BackboneSpec, PretrainedWeights

TIMM_PREFIX = "timm:"


def _timm():
    try:
        import timm
    except ImportError as err:
        raise MissingExtraError("timm: backbones need the timm package: pip install 'medtl[timm]' (or pip install timm).") from err
    return timm


def timm_spec(name: str) -> BackboneSpec:
    """The spec of `timm:<architecture>[.<tag>]`, from a weightless copy of the model built on the meta device.

    Example:
        >>> timm_spec("timm:resnet18").target_layer  # doctest: +SKIP
        'layer4'
    """
    timm = _timm()
    architecture = name.removeprefix(TIMM_PREFIX)
    if not timm.is_model(architecture.split(".")[0]):
        raise ValueError(f"{name!r} is not a timm model; see timm.list_models().")
    with torch.device("meta"):
        model = timm.create_model(architecture, pretrained=False)
    cfg = model.pretrained_cfg
    pretrained = _pretrained_weights(architecture, cfg)
    return BackboneSpec(
        name=name, family="timm", architecture=architecture, spatial_dims=2, in_chans=int(cfg["input_size"][0]),
        input_size=tuple(cfg["input_size"][1:]), mean=tuple(cfg["mean"]), std=tuple(cfg["std"]),
        first_conv=_single(cfg["first_conv"], name, "first_conv"),
        classifier=_single(cfg["classifier"], name, "classifier"),
        target_layer=model.feature_info[-1]["module"], feature_dim=int(model.num_features),
        feature_layers=tuple(info["module"] for info in model.feature_info),
        weight_sources=("none", "imagenet", "file", "medtl") if pretrained else ("none", "file", "medtl"),
        license=str(cfg.get("license") or "see the model card"), pretrained=pretrained,
    )


def build_timm(spec: BackboneSpec, in_chans: int, num_classes: int) -> nn.Module:
    """A freshly initialised timm model; timm builds the first conv for `in_chans` itself.

    Example:
        >>> build_timm(timm_spec("timm:resnet18"), 1, 2).conv1.in_channels  # doctest: +SKIP
        1
    """
    return _timm().create_model(spec.architecture, pretrained=False, in_chans=in_chans, num_classes=num_classes)


def download_timm_weights(spec: BackboneSpec) -> None:
    """Download `spec`'s pretrained weights into timm's own caches (needs a network).

    Example:
        >>> download_timm_weights(timm_spec("timm:resnet18"))  # doctest: +SKIP
    """
    _timm().create_model(spec.architecture, pretrained=True)


def _pretrained_weights(architecture: str, cfg: dict) -> tuple[PretrainedWeights, ...]:
    tagged = f"{architecture.split('.')[0]}.{cfg.get('tag')}" if cfg.get("tag") else architecture
    if cfg.get("hf_hub_id"):
        file_name = cfg.get("hf_hub_filename") or "model.safetensors"
        return (PretrainedWeights("imagenet", tagged, f"hf-hub:{cfg['hf_hub_id']}", file_name),)
    if cfg.get("url"):
        return (PretrainedWeights("imagenet", tagged, cfg["url"], os.path.basename(urlparse(cfg["url"]).path)),)
    return ()


def _single(value: str | tuple, name: str, field: str) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(f"{name}: timm names several {field} modules {value}; medtl adapts models with one.")
