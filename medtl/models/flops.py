"""Convolution cost of a forward pass, counted with forward hooks (compares stems without a profiler)."""
from __future__ import annotations

from math import prod

import torch
from torch import nn
from torch.nn.modules.conv import _ConvNd


def conv_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of every convolution when `model` runs on a zero tensor of `input_shape`
    (batch included). Build the model under `torch.device("meta")` to count without computing.

    Example:
        >>> conv_macs(nn.Conv2d(1, 8, 3, padding=1), (1, 1, 4, 4))
        1152
    """
    total = 0

    def count(module: _ConvNd, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        total += output.numel() * (module.in_channels // module.groups) * prod(module.kernel_size)

    handles = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, _ConvNd)]
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(input_shape, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return total
