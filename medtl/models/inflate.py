"""I3D inflation: a 2D torchvision ResNet/DenseNet turned into a 3D network that ImageNet weights can seed.

Written by hand because neither torchvision, MONAI nor timm inflates 2D networks. Each k x k kernel becomes
k x k x k (weights repeated along depth and divided by k, Carreira & Zisserman 2017), BatchNorm2d and the
pools become their 3D versions. Depth is padded by repeating the edge slices, so a volume that is constant
along depth gives exactly the 2D network's output on one slice.
"""
from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import DenseNet

from medtl.models.spec import BackboneSpec

INFLATABLE = ("resnet", "densenet")


def inflate_kernel(weight: torch.Tensor, depth: int) -> torch.Tensor:
    """A 2D kernel `(out, in, h, w)` repeated `depth` times along a new depth axis and divided by `depth`.

    Example:
        >>> inflate_kernel(torch.ones(4, 3, 7, 7), 7).shape
        torch.Size([4, 3, 7, 7, 7])
    """
    return weight.unsqueeze(2).repeat(1, 1, depth, 1, 1) / depth


class InflatedConv3d(nn.Conv3d):
    """A Conv3d made from a Conv2d: cube kernel, the 2D stride/padding/dilation repeated along depth, depth
    padded by replicating edge slices.

    Example:
        >>> conv = InflatedConv3d(nn.Conv2d(3, 8, 3, padding=1))
        >>> conv(torch.zeros(1, 3, 4, 8, 8)).shape
        torch.Size([1, 8, 4, 8, 8])
    """

    def __init__(self, conv: nn.Conv2d):
        kernel, stride, padding, dilation = conv.kernel_size, conv.stride, conv.padding, conv.dilation
        super().__init__(
            conv.in_channels, conv.out_channels, kernel_size=(kernel[0], *kernel), stride=(stride[0], *stride),
            padding=(0, *padding), dilation=(dilation[0], *dilation), groups=conv.groups, bias=conv.bias is not None,
        )
        self.depth_padding = int(padding[0])
        with torch.no_grad():
            self.weight.copy_(inflate_kernel(conv.weight, kernel[0]))
            if conv.bias is not None:
                self.bias.copy_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.depth_padding:
            x = F.pad(x, (0, 0, 0, 0, self.depth_padding, self.depth_padding), mode="replicate")
        return super().forward(x)


class InflatedDenseNet(DenseNet):
    """torchvision's DenseNet whose forward pools in 3D (the 2D forward calls `F.adaptive_avg_pool2d`).

    Example:
        >>> issubclass(InflatedDenseNet, DenseNet)
        True
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = F.relu(self.features(x))
        return self.classifier(torch.flatten(F.adaptive_avg_pool3d(features, 1), 1))


def inflate_to_3d(model: nn.Module) -> nn.Module:
    """`model` (a torchvision ResNet or DenseNet) with every 2D layer replaced by its inflated 3D version,
    in place; parameter names stay the same, so 2D checkpoints map onto it key by key.

    Example:
        >>> from torchvision.models import resnet18
        >>> inflate_to_3d(resnet18(num_classes=2)).eval()(torch.zeros(1, 3, 16, 16, 16)).shape
        torch.Size([1, 2])
    """
    for name, child in model.named_children():
        replacement = _inflated_layer(child)
        if replacement is None:
            inflate_to_3d(child)
        else:
            setattr(model, name, replacement)
    if isinstance(model, DenseNet):
        model.__class__ = InflatedDenseNet  # same parameters and modules, only the forward differs
    return model


def _inflated_layer(layer: nn.Module) -> nn.Module | None:
    if isinstance(layer, nn.Conv2d):
        return InflatedConv3d(layer)
    if isinstance(layer, nn.BatchNorm2d):
        return nn.BatchNorm3d(layer.num_features, eps=layer.eps, momentum=layer.momentum)
    if isinstance(layer, nn.MaxPool2d):
        return nn.MaxPool3d(layer.kernel_size, layer.stride, layer.padding, layer.dilation, ceil_mode=layer.ceil_mode)
    if isinstance(layer, nn.AvgPool2d):
        return nn.AvgPool3d(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)
    if isinstance(layer, nn.AdaptiveAvgPool2d):
        return nn.AdaptiveAvgPool3d(1)
    return None


def inflated_spec(spec_2d: BackboneSpec) -> BackboneSpec:
    """The spec of `i3d:<name>` from the spec of the 2D network it inflates.

    Example:
        >>> from medtl.models.torchvision_2d import torchvision_spec
        >>> inflated_spec(torchvision_spec("resnet18")).input_size
        (96, 96, 96)
    """
    if not spec_2d.name.startswith(INFLATABLE) or spec_2d.family != "torchvision":
        raise ValueError(f"i3d: inflates torchvision ResNets and DenseNets only. Got {spec_2d.name!r} instead.")
    # TorchXRayVision's input convention (2D chest X-rays at 224 px) does not carry over to volumes
    sources = tuple(source for source in spec_2d.weight_sources if source != "txv")
    return dataclasses.replace(spec_2d, name=f"i3d:{spec_2d.name}", family="i3d", spatial_dims=3,
                               input_size=(96, 96, 96), weight_sources=sources)
