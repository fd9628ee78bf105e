"""2D backbones from torchvision, with ImageNet weights from torchvision's own weights API."""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision import models as tvm

from medtl.models.adapt import replace_input_conv
from medtl.models.checkpoints.safe_load import refusing_pickled_objects, unwrap_state_dict
from medtl.models.spec import BackboneSpec, PretrainedWeights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TORCHVISION_LICENSE = "BSD-3-Clause (torchvision); trained on ImageNet-1k, whose terms of use apply"

# name: (first_conv, classifier, target_layer, feature_layers at strides 2, 4, 8, 16, 32)
_LAYOUTS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "resnet": ("conv1", "fc", "layer4", ("relu", "layer1", "layer2", "layer3", "layer4")),
    "densenet": ("features.conv0", "classifier", "features.norm5",
                 ("features.relu0", "features.denseblock1", "features.denseblock2", "features.denseblock3",
                  "features.norm5")),
    "efficientnet": ("features.0.0", "classifier.1", "features.8",
                     ("features.1", "features.2", "features.3", "features.5", "features.8")),
    "vgg": ("features.0", "classifier.6", "features.42",
            ("features.6", "features.13", "features.23", "features.33", "features.43")),
    "convnext": ("features.0.0", "classifier.2", "features.7",
                 ("features.1", "features.3", "features.5", "features.7")),
}
_DENSENET_OLD_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)
TXV_BACKBONES = ("densenet121", "resnet50")  # those TorchXRayVision publishes weights for (`medtl.models.checkpoints.txv`)
TORCHVISION_NAMES = ("resnet18", "resnet34", "resnet50", "densenet121", "efficientnet_b0", "efficientnet_b1",
                     "efficientnet_b2", "efficientnet_b3", "vgg16_bn", "convnext_tiny")
_FEATURE_DIMS = {"resnet18": 512, "resnet34": 512, "resnet50": 2048, "densenet121": 1024, "efficientnet_b0": 1280,
                 "efficientnet_b1": 1280, "efficientnet_b2": 1408, "efficientnet_b3": 1536, "vgg16_bn": 4096,
                 "convnext_tiny": 768}


def imagenet_weights(architecture: str) -> PretrainedWeights:
    """torchvision's default ImageNet weights for `architecture`, with the file name torch.hub caches it under.

    Example:
        >>> imagenet_weights("resnet18").file_name
        'resnet18-f37072fd.pth'
    """
    member = tvm.get_model_weights(architecture).DEFAULT
    return PretrainedWeights(
        source="imagenet",
        name=f"{type(member).__name__}.{member.name}",
        url=member.url,
        file_name=os.path.basename(urlparse(member.url).path),
    )


def read_imagenet_weights(spec: BackboneSpec, cached_file: Path) -> dict[str, torch.Tensor]:
    """The ImageNet state dict of `spec`'s torchvision architecture, through torchvision's weights API
    (`weights.get_state_dict`, which reads torch.hub's cache; the caller has checked that `cached_file` is
    there, so nothing downloads).

    Example:
        >>> read_imagenet_weights(spec, path)["conv1.weight"].shape  # doctest: +SKIP
        torch.Size([64, 3, 7, 7])
    """
    with refusing_pickled_objects(cached_file):
        state = _weights_enum(spec).get_state_dict(progress=False, weights_only=True)
    state = unwrap_state_dict(state, cached_file)
    # torchvision's DenseNet checkpoints use old key names ("norm.1"); torchvision renames them in
    # densenet._load_state_dict, which is not public, so the same rename is done here.
    return {_DENSENET_OLD_KEY.sub(r"\1\2", key): value for key, value in state.items()}


def download_imagenet_weights(spec: BackboneSpec) -> None:
    """Download `spec`'s ImageNet weights into torch.hub's cache, checking the hash torchvision publishes.

    Example:
        >>> download_imagenet_weights(torchvision_spec("resnet18"))  # doctest: +SKIP
    """
    _weights_enum(spec).get_state_dict(progress=True, check_hash=True, weights_only=True)


def _weights_enum(spec: BackboneSpec) -> tvm.WeightsEnum:
    member = spec.pretrained_for("imagenet").name.partition(".")[2]
    return tvm.get_model_weights(spec.architecture)[member]


def torchvision_spec(name: str) -> BackboneSpec:
    """The spec of torchvision's `name` (one of `TORCHVISION_NAMES`).

    Example:
        >>> torchvision_spec("densenet121").classifier
        'classifier'
    """
    first_conv, classifier, target_layer, feature_layers = _LAYOUTS[_layout_key(name)]
    return BackboneSpec(
        name=name,
        family="torchvision",
        architecture=name,
        spatial_dims=2,
        in_chans=3,
        input_size=(224, 224),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        first_conv=first_conv,
        classifier=classifier,
        target_layer=target_layer,
        feature_dim=_FEATURE_DIMS[name],
        feature_layers=feature_layers,
        weight_sources=("none", "imagenet", *(("txv",) if name in TXV_BACKBONES else ()), "file", "medtl"),
        license=TORCHVISION_LICENSE,
        pretrained=(imagenet_weights(name),),
    )


def build_torchvision(spec: BackboneSpec, in_chans: int, num_classes: int) -> nn.Module:
    """A freshly initialised torchvision network with `num_classes` outputs and `in_chans` input channels.

    Example:
        >>> build_torchvision(torchvision_spec("resnet18"), 1, 2).conv1.in_channels
        1
    """
    model = tvm.get_model(spec.architecture, weights=None, num_classes=num_classes)
    if in_chans != spec.in_chans:
        replace_input_conv(model, spec.first_conv, in_chans)
    return model


def _layout_key(name: str) -> str:
    return next(key for key in _LAYOUTS if name.startswith(key))

