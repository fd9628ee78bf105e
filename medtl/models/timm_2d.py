"""`timm:<name>`: any timm model, its spec read from timm's own pretrained config and feature info."""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from urllib.parse import urlparse

import torch
from torch import nn

from medtl.errors import MissingExtraError
from medtl.models.spec import BackboneSpec, PretrainedWeights

TIMM_PREFIX = "timm:"
_BLOCK = re.compile(r"(?:^|\.)blocks\.\d+$")


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
    first_conv = _single(cfg["first_conv"], name, "first_conv")
    blocks = tuple(module for module, _ in model.named_modules() if _BLOCK.search(module))
    if blocks:  # the stem (patch embedding with the class token and position embeddings) first, one rate of its own
        blocks = (first_conv.rpartition(".")[0] or first_conv, *blocks)
    return BackboneSpec(
        name=name, family="timm", architecture=architecture, spatial_dims=2, in_chans=int(cfg["input_size"][0]),
        input_size=tuple(cfg["input_size"][1:]), mean=tuple(cfg["mean"]), std=tuple(cfg["std"]),
        first_conv=first_conv,
        classifier=_single(cfg["classifier"], name, "classifier"),
        target_layer=_target_layer(model, blocks), feature_dim=int(model.num_features),
        feature_layers=tuple(info["module"] for info in model.feature_info),
        weight_sources=("none", "imagenet", "hf", "file", "medtl") if pretrained else ("none", "hf", "file", "medtl"),
        license=str(cfg.get("license") or "see the model card"), pretrained=pretrained, blocks=blocks,
    )


def build_timm(spec: BackboneSpec, in_chans: int, num_classes: int,
               input_size: Sequence[int] | None = None) -> nn.Module:
    """A freshly initialised timm model; timm builds the first conv for `in_chans` itself. Models whose
    pretrained config fixes the input size (ViT, DeiT, DINOv2/v3, Swin: a grid of position embeddings or
    windows) are built for `input_size` when it differs from the native one; their checkpoints are resampled
    to it when loaded (`filter_timm_checkpoint`).

    Example:
        >>> build_timm(timm_spec("timm:vit_tiny_patch16_224"), 1, 2, (64, 64)).pos_embed.shape  # doctest: +SKIP
        torch.Size([1, 17, 192])
    """
    timm = _timm()
    options = {}
    if input_size is not None and tuple(input_size) != spec.input_size and _fixed_input_size(spec):
        options["img_size"] = tuple(int(n) for n in input_size)
    return timm.create_model(spec.architecture, pretrained=False, in_chans=in_chans, num_classes=num_classes,
                             **options)


def filter_timm_checkpoint(model: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """`state` passed through the `checkpoint_filter_fn` of the model's timm module, as timm's own pretrained
    loading does: position embeddings (and Swin's relative-position tables) resampled to the model's input size,
    patch-embedding kernels to its patch size, original DINOv2 / CLIP / ConvNeXt key layouts converted. Returns
    the filtered state and one note per tensor whose shape changed (for the load report).

    Example:
        >>> state, notes = filter_timm_checkpoint(model, checkpoint)  # doctest: +SKIP
        >>> notes[0]  # doctest: +SKIP
        'pos_embed: resampled (1, 197, 384) -> (1, 17, 384)'
    """
    module = sys.modules.get(type(model).__module__)
    filter_fn = getattr(module, "checkpoint_filter_fn", None)
    if filter_fn is None:
        return dict(state), []
    filtered = filter_fn(dict(state), model)
    notes = [f"{key}: resampled {tuple(state[key].shape)} -> {tuple(value.shape)}"
             for key, value in filtered.items() if key in state and state[key].shape != value.shape]
    return filtered, notes


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


def _fixed_input_size(spec: BackboneSpec) -> bool:
    return bool(_timm().models.get_pretrained_cfg(spec.architecture.split(".")[0]).fixed_input_size)


def _target_layer(model: nn.Module, blocks: tuple[str, ...]) -> str:
    """The layer Grad-CAM explains: a transformer's last block's first norm (its token map before attention,
    which the class token's gradient reaches), otherwise the deepest feature layer."""
    if blocks and hasattr(model, "num_prefix_tokens") and hasattr(model.get_submodule(blocks[-1]), "norm1"):
        return f"{blocks[-1]}.norm1"
    return model.feature_info[-1]["module"]


def _single(value: str | tuple, name: str, field: str) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(f"{name}: timm names several {field} modules {value}; medtl adapts models with one.")
