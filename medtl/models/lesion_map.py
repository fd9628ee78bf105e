"""A multiple-instance classifier for small findings: a U-Net scores every voxel, and the case's logits are
the pooled voxel logits ("is there a lesion anywhere").

A global average over a classifier's deep feature maps dilutes a lesion of a few voxels; a U-Net trained to
segment lesions marks them voxel by voxel, and the maximum over its lesion map says whether the volume holds
one. With a source U-Net trained on lesion masks (`medtl pretrain` of a segmentation config), the classifier
starts as a working detector and fine-tunes with image labels alone.
"""
from __future__ import annotations

import torch
from torch import nn

from medtl.models.pooling import GlobalPool
from medtl.models.segmentation import BackboneUNet
from medtl.models.spec import BackboneSpec

MAP_HEAD = "fc"


class LesionMapClassifier(BackboneUNet):
    """`BackboneUNet` whose per-voxel class log-probabilities (classes compete voxel by voxel, as in
    segmentation) are pooled (`pool`: "max", "avg" or "avgmax", see `GlobalPool`) and mapped by a linear layer
    `fc` to the case's class logits. `fc` starts as the identity (for "avgmax": the maxima alone), so a U-Net
    that segments lesions (class 1 against background 0) scores a case by its most lesion-like voxel from the
    start. Its state dict is the U-Net's plus `fc`, so a stored U-Net loads into it whole.

    Example:
        >>> from medtl.models import create_model
        >>> model = create_model("resnet18_3d", head="lesion_map", encoder_depth=3, pool="max")
        >>> model(torch.zeros(2, 1, 16, 16, 16)).shape, model.spec.classifier
        (torch.Size([2, 2]), 'fc')
    """

    def __init__(self, backbone: nn.Module, spec: BackboneSpec, in_chans: int, num_classes: int,
                 encoder_depth: int | None = None, pool: str = "max"):
        super().__init__(backbone, spec, in_chans, num_classes, encoder_depth)
        self.pool = GlobalPool(pool)
        self.fc = nn.Linear(self.pool.channels(num_classes), num_classes)
        with torch.no_grad():
            self.fc.weight.zero_()
            self.fc.weight[:, -num_classes:] = torch.eye(num_classes)  # avgmax: means first, then maxima
            self.fc.bias.zero_()

    def lesion_map(self, x: torch.Tensor) -> torch.Tensor:
        """The per-voxel class logits (B, num_classes, *spatial), as the U-Net gives them."""
        return super().forward(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(torch.log_softmax(self.lesion_map(x), dim=1)).flatten(1))
