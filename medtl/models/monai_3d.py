"""3D backbones from MONAI: ResNets that MedicalNet weights fit, and DenseNet-121."""
from __future__ import annotations

from monai.networks import nets
from monai.networks.nets.resnet import (
    MEDICALNET_HUGGINGFACE_FILES_BASENAME,
    MEDICALNET_HUGGINGFACE_REPO_BASENAME,
    get_medicalnet_pretrained_resnet_args,
)
from torch import nn

from medtl.config_choices import CHOICES
from medtl.models.pooling import GlobalPool
from medtl.models.spec import BackboneSpec, PretrainedWeights

MEDICALNET_DEPTHS = {"resnet10_3d": 10, "resnet18_3d": 18, "resnet34_3d": 34, "resnet50_3d": 50}
MONAI_NAMES = (*MEDICALNET_DEPTHS, "densenet121_3d")
STEMS = CHOICES["model.stem"]
_VOLUME_SIZE = (96, 96, 96)


def medicalnet_weights(depth: int) -> PretrainedWeights:
    """MedicalNet's ResNet-`depth` checkpoint (pretrained on 23 medical datasets) as MONAI names it.

    Example:
        >>> medicalnet_weights(10).file_name
        'resnet_10_23dataset.pth'
    """
    file_name = f"{MEDICALNET_HUGGINGFACE_FILES_BASENAME}{depth}_23dataset.pth"
    repo = f"{MEDICALNET_HUGGINGFACE_REPO_BASENAME}{depth}"
    return PretrainedWeights(
        source="medicalnet", name=f"{repo}/{file_name}",
        url=f"https://huggingface.co/{repo}/resolve/main/{file_name}", file_name=file_name,
    )


def monai_spec(name: str) -> BackboneSpec:
    """The spec of MONAI's 3D `name` (one of `MONAI_NAMES`).

    Example:
        >>> monai_spec("resnet18_3d").weight_sources
        ('none', 'medicalnet', 'file', 'medtl')
    """
    if name == "densenet121_3d":
        return BackboneSpec(
            name=name, family="monai", architecture="densenet121", spatial_dims=3, in_chans=1,
            input_size=_VOLUME_SIZE, mean=(0.0,), std=(1.0,), first_conv="features.conv0",
            classifier="class_layers.out", target_layer="features.norm5", feature_dim=1024,
            feature_layers=("features.relu0", "features.denseblock1", "features.denseblock2",
                            "features.denseblock3", "features.norm5"),
            weight_sources=("none", "file", "medtl"),
            license="no published weights (MONAI network code: Apache-2.0)",
        )
    depth = MEDICALNET_DEPTHS[name]
    return BackboneSpec(
        name=name, family="monai", architecture=f"resnet{depth}", spatial_dims=3, in_chans=1,
        input_size=_VOLUME_SIZE, mean=(0.0,), std=(1.0,), first_conv="conv1", classifier="fc",
        target_layer="layer4", feature_dim=2048 if depth >= 50 else 512,
        feature_layers=("act", "layer1", "layer2", "layer3", "layer4"),
        weight_sources=("none", "medicalnet", "file", "medtl"),
        license="MIT (Tencent MedicalNet)",
        pretrained=(medicalnet_weights(depth),),
    )


def build_monai(spec: BackboneSpec, in_chans: int, num_classes: int, stem: str = "stride2",
                pool: str = "avg") -> nn.Module:
    """A freshly initialised MONAI 3D network.

    ResNets take `stem`: "stride2" (MedicalNet's own stem: the 7^3 first conv has stride 2 on every axis,
    then the max-pool, about 8x fewer FLOPs than MONAI's default) or "monai" (MONAI's default stride 1).
    The ResNets' shortcut type and downsample bias follow MedicalNet, so its checkpoints fit key for key.
    ResNets also take `pool`, the global pooling before the head (`medtl.models.pooling`): "avg" (MONAI's),
    "max" or "avgmax" (both, which doubles the head's input). DenseNet-121 has a single stem and average pooling
    (`build_backbone` accepts other values for the ResNets only).

    Example:
        >>> build_monai(monai_spec("resnet10_3d"), 1, 2).conv1.stride
        (2, 2, 2)
        >>> build_monai(monai_spec("resnet10_3d"), 1, 2, pool="avgmax").fc.in_features
        1024
    """
    if spec.architecture == "densenet121":
        return nets.DenseNet121(spatial_dims=3, in_channels=in_chans, out_channels=num_classes)
    bias_downsample, shortcut_type = get_medicalnet_pretrained_resnet_args(MEDICALNET_DEPTHS[spec.name])
    model = getattr(nets, spec.architecture)(
        spatial_dims=3, n_input_channels=in_chans, num_classes=num_classes,
        conv1_t_stride=2 if stem == "stride2" else 1, shortcut_type=shortcut_type, bias_downsample=bias_downsample,
    )
    if pool != "avg":
        model.avgpool = GlobalPool(pool)
        model.fc = nn.Linear(model.avgpool.channels(model.fc.in_features), num_classes)
    return model
