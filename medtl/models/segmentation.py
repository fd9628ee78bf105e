"""A U-Net whose encoder is a registry backbone (with its pretrained weights), for 2D and 3D segmentation.

The decoder is built from MONAI's U-Net blocks (`UpCat`, as in BasicUNet; FlexibleUNet's `SegmentationHead`),
with one skip more than FlexibleUNet's: the input itself, at full resolution.
FlexibleUNet's own encoders are MONAI re-implementations whose parameters do not match torchvision
checkpoints (e.g. its ResNet-18 uses shortcut type "A"), so the encoder here is the backbone itself: forward
hooks collect its feature maps at `spec.feature_layers`, shallow to deep. torchvision's FX feature extractor
cannot trace MONAI's shortcut-"A" ResNets, hence the hooks (written here, used for every family).
"""
from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from monai.networks.blocks import Convolution
from monai.networks.nets.basic_unet import UpCat
from monai.networks.nets.flexible_unet import SegmentationHead
from torch import nn

from medtl.models.spec import BackboneSpec

_PROBE_SIZE = 32


class _DeepestFeatureReached(Exception):
    """Stops the backbone's forward once the deepest feature map is collected (its head is not needed)."""


class FeatureEncoder(nn.Module):
    """The backbone's outputs at `layers` (dotted module paths, in execution order) as a list.

    Example:
        >>> from torchvision.models import resnet18
        >>> encoder = FeatureEncoder(resnet18(), ["layer1", "layer4"])
        >>> [tuple(f.shape) for f in encoder(torch.zeros(1, 3, 64, 64))]
        [(1, 64, 16, 16), (1, 512, 2, 2)]
    """

    def __init__(self, backbone: nn.Module, layers: list[str] | tuple[str, ...]):
        super().__init__()
        self.backbone = backbone
        self.layers = tuple(layers)
        self._collected: list[torch.Tensor | None] = []
        for index, name in enumerate(self.layers):
            backbone.get_submodule(name).register_forward_hook(partial(self._collect, index))

    def _collect(self, index: int, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        self._collected[index] = output
        if index == len(self.layers) - 1:
            raise _DeepestFeatureReached

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        self._collected = [None] * len(self.layers)
        try:
            self.backbone(x)
        except _DeepestFeatureReached:  # the expected way out: everything after it is the classifier
            pass
        features, self._collected = self._collected, []
        never_ran = [name for name, feature in zip(self.layers, features) if feature is None]
        if never_ran:
            raise RuntimeError(f"feature layers {never_ran} did not run in the backbone's forward")
        return features


class UNetHead(nn.Module):
    """A U-Net decoder (MONAI `UpCat` blocks) plus a segmentation head: the input and the encoder's feature maps
    (shallow to deep) -> logits.

    The input itself is a skip too: two convolutions on it, at half the shallowest feature's stride (full
    resolution behind a stride-2 stem), so that lesions a few voxels across keep their edges. Each decoder level
    has `16 * stride` channels, at most 256.

    Example:
        >>> head = UNetHead(2, 1, [16, 32], num_classes=3, first_stride=2)
        >>> x = torch.zeros(1, 1, 16, 16)
        >>> head(x, [torch.zeros(1, 16, 8, 8), torch.zeros(1, 32, 4, 4)]).shape
        torch.Size([1, 3, 16, 16])
    """

    def __init__(self, spatial_dims: int, in_chans: int, channels: list[int], num_classes: int, first_stride: int):
        super().__init__()
        layer = {"act": ("relu", {"inplace": True}), "norm": ("batch", {"eps": 1e-3, "momentum": 0.1}),
                 "bias": False}
        strides = [first_stride // 2 * 2**level for level in range(len(channels) + 1)]
        widths = [min(16 * stride, 256) for stride in strides]
        self.input_block = nn.Sequential(
            Convolution(spatial_dims, in_chans, widths[0], strides=strides[0], **layer),
            Convolution(spatial_dims, widths[0], widths[0], **layer),
        )
        skips = [widths[0], *channels[:-1]]
        ins = [channels[-1], *widths[len(channels) - 1:0:-1]]
        self.decoder = nn.ModuleList(
            UpCat(spatial_dims, in_chns, cat_chns=skip, out_chns=out, upsample="nontrainable", interp_mode="nearest",
                  align_corners=None, halves=True, is_pad=True, **layer)
            for in_chns, skip, out in zip(ins, reversed(skips), reversed(widths[:-1]))
        )
        self.segmentation_head = SegmentationHead(
            spatial_dims=spatial_dims, in_channels=widths[0], out_channels=num_classes, kernel_size=3,
            scale_factor=strides[0],
        )

    def forward(self, x: torch.Tensor, features: list[torch.Tensor]) -> torch.Tensor:
        skips = [self.input_block(x), *features[:-1]]
        y = features[-1]
        for block, skip in zip(self.decoder, reversed(skips)):
            y = block(y, skip)
        return self.segmentation_head(y)


class BackboneUNet(nn.Module):
    """U-Net: `encoder` (the backbone, classifier dropped) -> `head` (decoder + segmentation head).
    Logits have the input's spatial size; inputs are padded to a multiple of the deepest stride and the
    output cropped back. `encoder_depth` keeps the backbone's first feature layers only (all when None); the
    layers after the deepest one kept are dropped.

    Example:
        >>> from medtl.models import create_model
        >>> create_model("resnet18", task="segmentation", num_classes=3)(torch.zeros(1, 1, 40, 36)).shape
        torch.Size([1, 3, 40, 36])
        >>> unet = create_model("resnet18_3d", task="segmentation", encoder_depth=3)
        >>> unet.multiple, type(unet.encoder.backbone.layer3).__name__
        (8, 'Identity')
    """

    def __init__(self, backbone: nn.Module, spec: BackboneSpec, in_chans: int, num_classes: int,
                 encoder_depth: int | None = None):
        super().__init__()
        layers = spec.feature_layers[:encoder_depth]
        if encoder_depth is not None and not 1 <= encoder_depth <= len(spec.feature_layers):
            raise ValueError(f"{spec.name}: encoder_depth must be between 1 and {len(spec.feature_layers)} (its "
                             f"feature layers {list(spec.feature_layers)}). Got {encoder_depth!r} instead.")
        self.encoder = FeatureEncoder(backbone, layers)
        channels, strides = _probe(self.encoder, spec.spatial_dims, in_chans)
        self.keep = [i for i, stride in enumerate(strides) if stride >= 2]
        kept = [strides[i] for i in self.keep]
        if not kept or kept != [kept[0] * 2**i for i in range(len(kept))]:
            raise ValueError(f"{spec.name}: a U-Net needs feature maps that halve in size layer by layer; "
                             f"{list(layers)} have strides {strides}.")
        self.multiple = kept[-1]
        self.head = UNetHead(spec.spatial_dims, in_chans, [channels[i] for i in self.keep], num_classes, kept[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[2:]
        padding = [(-s) % self.multiple for s in size]
        if any(padding):
            x = F.pad(x, [p for extra in reversed(padding) for p in (0, extra)])
        features = self.encoder(x)
        logits = self.head(x, [features[i] for i in self.keep])
        return logits[(..., *(slice(0, s) for s in size))]


def _probe(encoder: FeatureEncoder, spatial_dims: int, in_chans: int) -> tuple[list[int], list[int]]:
    """Channels and strides of the feature maps (one small forward pass); top-level modules that never ran
    before the deepest feature map (pooling, classifier) are replaced by nn.Identity."""
    backbone = encoder.backbone
    ran: set[str] = set()
    handles = [child.register_forward_pre_hook(lambda *_, name=name: ran.add(name))
               for name, child in backbone.named_children()]
    was_training = encoder.training
    try:
        with torch.no_grad():
            features = encoder.eval()(torch.zeros(1, in_chans, *[_PROBE_SIZE] * spatial_dims))
    finally:
        encoder.train(was_training)
        for handle in handles:
            handle.remove()
    for name, _ in list(backbone.named_children()):
        if name not in ran:
            setattr(backbone, name, nn.Identity())
    return [f.shape[1] for f in features], [_PROBE_SIZE // f.shape[-1] for f in features]
