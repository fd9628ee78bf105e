"""Transformer layer outputs on a spatial grid: a ViT's patch tokens without its class/register tokens, a Swin
stage's channels-last map; what class-activation maps need to explain a transformer layer."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn as nn

Rebuild = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class TokenLayout:
    """How a model lays out a layer's output: `prefix` leading tokens (class, distillation, register) before the
    patch tokens, a patch `grid`, or channels last (timm's Swin). A convolutional model has neither.

    Example:
        >>> TokenLayout.of(torch.nn.Conv2d(1, 1, 1), (32, 32))
        TokenLayout(prefix=0, grid=None, channels_last=False)
    """

    prefix: int = 0
    grid: tuple[int, ...] | None = None
    channels_last: bool = False

    @classmethod
    def of(cls, model: nn.Module, input_size: tuple[int, ...]) -> "TokenLayout":
        """Read the layout from a timm transformer's attributes (`num_prefix_tokens`, `patch_embed`)."""
        embed = getattr(model, "patch_embed", None)
        if embed is None:
            return cls()
        if "NHWC" in str(getattr(embed, "output_fmt", "")):
            return cls(channels_last=True)
        patch = getattr(embed, "patch_size", None)
        grid = tuple(s // p for s, p in zip(input_size, patch)) if patch is not None else None
        return cls(prefix=int(getattr(model, "num_prefix_tokens", 1)), grid=grid)

    def to_grid(self, output: torch.Tensor, spatial_dims: int) -> tuple[torch.Tensor, Rebuild]:
        """`output` as (B, C, *grid) and the function that turns such a grid back into the layer's own layout
        (prefix tokens kept as they were, without a gradient).

        Example:
            >>> tokens = torch.rand(2, 1 + 16, 8)
            >>> grid, rebuild = TokenLayout(prefix=1, grid=(4, 4)).to_grid(tokens, 2)
            >>> grid.shape, bool((rebuild(grid) == tokens).all())
            (torch.Size([2, 8, 4, 4]), True)
        """
        if output.ndim == spatial_dims + 2 and not self.channels_last:
            return output, lambda grid: grid
        if self.channels_last and output.ndim == spatial_dims + 2:
            order = (0, spatial_dims + 1, *range(1, spatial_dims + 1))
            back = (0, *range(2, spatial_dims + 2), 1)
            return output.permute(order), lambda grid: grid.permute(back)
        if output.ndim != 3:
            raise ValueError(f"target layer output of shape {tuple(output.shape)} is neither a (B, C, *spatial) "
                             "feature map nor (B, tokens, C) transformer tokens")
        prefix, patches = output[:, : self.prefix], output[:, self.prefix :]
        grid = self.grid if self.grid and math.prod(self.grid) == patches.shape[1] else _square(patches.shape[1],
                                                                                               spatial_dims)
        spatial = patches.transpose(1, 2).reshape(output.shape[0], output.shape[2], *grid)
        return spatial, lambda g: torch.cat([prefix, g.flatten(2).transpose(1, 2)], dim=1)


def _square(n_tokens: int, spatial_dims: int) -> tuple[int, ...]:
    side = round(n_tokens ** (1 / spatial_dims))
    if side**spatial_dims != n_tokens:
        raise ValueError(f"{n_tokens} patch tokens do not form a square grid; the model's patch_embed gives none")
    return (side,) * spatial_dims
