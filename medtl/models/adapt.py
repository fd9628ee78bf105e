"""Input-channel adaptation: pretrained first-conv kernels made to fit 1, 2 or n input channels."""
from __future__ import annotations

import torch
from torch import nn


def adapt_input_conv(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    """First-conv kernels `(out, c, *kernel)` rewritten for `in_chans` input channels.

    The rule is timm's `adapt_input_conv`, written here once for 2D and 3D kernels and any pretrained
    channel count `c` (timm's function handles 2D kernels only): one channel sums the pretrained kernels
    (a grey image then gives the response the RGB image with equal channels gave); n channels tile the
    pretrained kernels and rescale them by c/n so the response keeps its magnitude.

    Example:
        >>> w = torch.ones(8, 3, 7, 7)
        >>> adapt_input_conv(w, 1).shape, float(adapt_input_conv(w, 1)[0, 0, 0, 0])
        (torch.Size([8, 1, 7, 7]), 3.0)
        >>> float(adapt_input_conv(w, 6)[0, 5, 0, 0])
        0.5
    """
    if in_chans < 1:
        raise ValueError(f"in_chans must be a positive int. Got {in_chans!r} instead.")
    pretrained_chans = weight.shape[1]
    if in_chans == pretrained_chans:
        return weight
    if in_chans == 1:
        return weight.sum(dim=1, keepdim=True)
    repeats = -(-in_chans // pretrained_chans)
    tiled = weight.repeat(1, repeats, *([1] * (weight.dim() - 2)))[:, :in_chans]
    return tiled * (pretrained_chans / in_chans)


def replace_input_conv(model: nn.Module, path: str, in_chans: int) -> nn.Conv2d | nn.Conv3d:
    """Swap the convolution at `path` for one that takes `in_chans` channels, its kernels adapted from the
    current ones with `adapt_input_conv` (so a fresh model keeps its library's initialisation).

    Example:
        >>> from torchvision.models import resnet18
        >>> replace_input_conv(resnet18(), "conv1", 1).weight.shape
        torch.Size([64, 1, 7, 7])
    """
    old = model.get_submodule(path)
    if not isinstance(old, (nn.Conv2d, nn.Conv3d)) or old.groups != 1:
        raise TypeError(f"{path} must be a Conv2d or Conv3d without groups to adapt its input channels. "
                        f"Got {type(old).__name__} instead.")
    new = type(old)(
        in_chans, old.out_channels, kernel_size=old.kernel_size, stride=old.stride, padding=old.padding,
        dilation=old.dilation, bias=old.bias is not None, padding_mode=old.padding_mode,
    )
    with torch.no_grad():
        new.weight.copy_(adapt_input_conv(old.weight, in_chans))
        if old.bias is not None:
            new.bias.copy_(old.bias)
    parent_path, _, child = path.rpartition(".")
    setattr(model.get_submodule(parent_path), child, new)
    return new
