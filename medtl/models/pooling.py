"""Global pooling before a 3D ResNet's head: the mean of each feature map, its maximum, or both side by side.

A small bright lesion lights up a few positions of a feature map; the mean over the whole volume dilutes it,
the maximum keeps it ("is there a bright spot anywhere").
"""
from __future__ import annotations

import torch
from torch import nn

from medtl.config_choices import CHOICES

POOLS = CHOICES["model.pool"]


class GlobalPool(nn.Module):
    """Pool (B, C, *spatial) to (B, C * k, 1, ...): k = 1 for "avg" or "max", 2 for "avgmax" (means, then maxima).

    Example:
        >>> x = torch.arange(8.0).reshape(1, 1, 2, 2, 2)
        >>> GlobalPool("avgmax")(x).flatten().tolist()
        [3.5, 7.0]
        >>> GlobalPool("avgmax").channels(512)
        1024
    """

    def __init__(self, mode: str = "avg") -> None:
        super().__init__()
        if mode not in POOLS:
            raise ValueError(f"pool must be one of {set(POOLS)}. Got {mode!r} instead.")
        self.mode = mode

    def channels(self, features: int) -> int:
        """The width of the pooled vector for `features` channels."""
        return features * (2 if self.mode == "avgmax" else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        axes = tuple(range(2, x.dim()))
        pooled = [x.mean(axes, keepdim=True)] if self.mode != "max" else []
        if self.mode != "avg":
            pooled.append(x.amax(axes, keepdim=True))
        return torch.cat(pooled, dim=1)

    def extra_repr(self) -> str:
        return repr(self.mode)
