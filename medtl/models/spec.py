"""`BackboneSpec`: everything medtl knows about a backbone, read by the model builder, the transforms,
the training strategies and Grad-CAM."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class PretrainedWeights:
    """One downloadable set of pretrained weights for a backbone.

    `name` is the publisher's own name for it (a torchvision weights enum member, a timm tag, a MedicalNet
    checkpoint); `file_name` is the name the file has in its cache; `sha256` is the full checksum where the
    publisher gives one (torchvision file names carry its first digits).

    Example:
        >>> w = PretrainedWeights("imagenet", "ResNet18_Weights.IMAGENET1K_V1",
        ...                       "https://download.pytorch.org/models/resnet18-f37072fd.pth", "resnet18-f37072fd.pth")
        >>> w.file_name
        'resnet18-f37072fd.pth'
    """

    source: str
    name: str
    url: str
    file_name: str
    sha256: str | None = None


@dataclass(frozen=True)
class BackboneSpec:
    """What medtl needs to know about one backbone (timm's "pretrained config", extended to 3D).

    `family` says which library builds it ("torchvision", "monai", "i3d" for 2D torchvision networks inflated
    to 3D, "timm") and `architecture` is that library's own name for it. `in_chans`, `mean` and `std` describe
    the pretrained weights' input (3D MedicalNet volumes are z-scored per volume, hence mean 0 and std 1).
    `first_conv`, `classifier` and `target_layer` are dotted module paths (for `model.get_submodule`):
    the input convolution that adaptation changes, the head that is reset for a new task, and the layer
    Grad-CAM explains. `feature_layers` are the modules whose outputs feed a U-Net decoder, shallow to deep;
    `blocks` are the units layer-wise learning-rate decay steps over, input to output (a transformer's stem
    and blocks; the feature layers where none is given).

    Example:
        >>> from medtl.models import get_spec
        >>> spec = get_spec("resnet18")
        >>> spec.first_conv, spec.classifier, spec.target_layer
        ('conv1', 'fc', 'layer4')
        >>> spec.normalization(1)
        ((0.449,), (0.226,))
    """

    name: str
    family: str
    architecture: str
    spatial_dims: int
    in_chans: int
    input_size: tuple[int, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    first_conv: str
    classifier: str
    target_layer: str
    feature_dim: int
    feature_layers: tuple[str, ...]
    weight_sources: tuple[str, ...]
    license: str
    pretrained: tuple[PretrainedWeights, ...] = ()
    blocks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.blocks:
            object.__setattr__(self, "blocks", self.feature_layers)

    def pretrained_for(self, source: str) -> PretrainedWeights:
        """The downloadable weights behind `source` ("imagenet", "medicalnet").

        Example:
            >>> from medtl.models import get_spec
            >>> get_spec("resnet10_3d").pretrained_for("medicalnet").file_name
            'resnet_10_23dataset.pth'
        """
        for weights in self.pretrained:
            if weights.source == source:
                return weights
        known = {w.source for w in self.pretrained}
        raise ValueError(f"{self.name}: pretrained weights must be one of {known}. Got {source!r} instead.")

    def normalization(self, in_chans: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Per-channel (mean, std) for a model adapted to `in_chans` input channels.

        One channel gets the mean of the pretrained channel means and stds (the first conv sums the
        pretrained kernels); other counts tile the pretrained values the way the kernels are tiled.

        Example:
            >>> from medtl.models import get_spec
            >>> get_spec("resnet18").normalization(3)[0]
            (0.485, 0.456, 0.406)
        """
        if in_chans == 1 and len(self.mean) == 1:
            return self.mean, self.std
        if in_chans == 1:
            return (round(sum(self.mean) / len(self.mean), 6),), (round(sum(self.std) / len(self.std), 6),)
        tiles = -(-in_chans // len(self.mean))
        return (self.mean * tiles)[:in_chans], (self.std * tiles)[:in_chans]

    def within(self, prefix: str, classifier: str) -> "BackboneSpec":
        """The same spec for a model that holds this backbone under `prefix` and has its own head.

        Example:
            >>> from medtl.models import get_spec
            >>> get_spec("resnet18").within("encoder.backbone", "head").target_layer
            'encoder.backbone.layer4'
        """
        return dataclasses.replace(
            self,
            first_conv=f"{prefix}.{self.first_conv}",
            classifier=classifier,
            target_layer=f"{prefix}.{self.target_layer}",
            feature_layers=tuple(f"{prefix}.{layer}" for layer in self.feature_layers),
            blocks=tuple(f"{prefix}.{block}" for block in self.blocks),
        )
