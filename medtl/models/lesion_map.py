"""A multiple-instance classifier for small findings: a U-Net scores every voxel, and the case's logits are
the pooled voxel log-probabilities ("is there a lesion anywhere"), Platt-scaled: divided by one learned
temperature and shifted.

A global average over a classifier's deep feature maps dilutes a lesion of a few voxels; a U-Net trained to
segment lesions marks them voxel by voxel, and the maximum over its lesion map says whether the volume holds
one. With a source U-Net trained on lesion masks (`medtl pretrain` of a segmentation config), the classifier
starts as a working detector and fine-tunes with image labels alone. A temperature and a shift keep the
detector's ranking of the cases; the shift calibrates them: a lesion case's pooled log-probabilities are two
maxima near log 1 (its lesion voxel's, and its many background voxels'), which a temperature alone leaves at
probability 0.5.
"""
from __future__ import annotations

import torch
from torch import nn

from medtl.models.pooling import GlobalPool
from medtl.models.segmentation import BackboneUNet
from medtl.models.spec import BackboneSpec

MAP_HEAD = "fc"
MAP_POOLS = ("max", "avg")


class PlattScaling(nn.Module):
    """Divide the logits by one learned temperature (kept positive, starting at 1) and add a learned shift per
    class (starting at 0): the class probabilities sharpen or soften and move, and no case overtakes another.

    Example:
        >>> PlattScaling(2)(torch.tensor([[-2.0, -0.5]])).tolist()
        [[-2.0, -0.5]]
    """

    def __init__(self, num_classes: int):
        super().__init__()
        self.log_temperature = nn.Parameter(torch.zeros(()))
        self.shift = nn.Parameter(torch.zeros(num_classes))

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return logits * torch.exp(-self.log_temperature) + self.shift


class LesionMapClassifier(BackboneUNet):
    """`BackboneUNet` whose per-voxel class log-probabilities (classes compete voxel by voxel, as in
    segmentation) are pooled (`pool`: "max" or "avg") into the case's class logits, divided by the
    `PlattScaling` `fc`, its only part a linear probe trains. A U-Net that segments lesions (class 1 against
    background 0) scores a case by its most lesion-like voxel. Its state dict is the U-Net's plus `fc`, so a
    stored U-Net loads into it whole.

    Example:
        >>> from medtl.models import create_model
        >>> model = create_model("resnet18_3d", head="lesion_map", encoder_depth=3, pool="max")
        >>> model(torch.zeros(2, 1, 16, 16, 16)).shape, model.spec.classifier
        (torch.Size([2, 2]), 'fc')
    """

    def __init__(self, backbone: nn.Module, spec: BackboneSpec, in_chans: int, num_classes: int,
                 encoder_depth: int | None = None, pool: str = "max"):
        if pool not in MAP_POOLS:
            raise ValueError(f"model.head lesion_map pools each class map to one value: pool must be one of "
                             f"{set(MAP_POOLS)}. Got {pool!r} instead.")
        super().__init__(backbone, spec, in_chans, num_classes, encoder_depth)
        self.pool = GlobalPool(pool)
        self.fc = PlattScaling(num_classes)

    def lesion_map(self, x: torch.Tensor) -> torch.Tensor:
        """The per-voxel class logits (B, num_classes, *spatial), as the U-Net gives them."""
        return super().forward(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(torch.log_softmax(self.lesion_map(x), dim=1)).flatten(1))
