"""Tiny models and data shared by the engine tests: a 16x16 two-class task a 4-channel CNN learns in seconds."""
import torch
from torch import nn


class TinyNet(nn.Module):
    """Conv + BatchNorm features and a linear head at `head`."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.features(x))


def tiny_net():
    """A Sequential CNN whose head is module "4"."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 2))


def blobs(n=32, seed=0):
    """`n` noisy 16x16 images; odd ones (class 1) carry a bright square."""
    g = torch.Generator().manual_seed(seed)
    data = []
    for i in range(n):
        x = torch.randn(1, 16, 16, generator=g) * 0.3
        if i % 2:
            x[:, 5:11, 5:11] += 1.5
        data.append({"image": x, "y": i % 2})
    return data


def snapshot(module):
    """A detached copy of a module's state dict."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}
