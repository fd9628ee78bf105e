"""`FoldEnsemble`: a cv run's fold models as one network whose output is their averaged class probabilities."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class FoldEnsemble(nn.Module):
    """Softmax probabilities of each model, averaged: what `medtl predict` computes for an ensemble, as one
    graph (one model is an ensemble of one).

    Example:
        >>> ensemble = FoldEnsemble([nn.Linear(3, 2), nn.Linear(3, 2)])
        >>> ensemble(torch.zeros(4, 3)).sum(dim=1)
        tensor([1., 1., 1., 1.], grad_fn=<SumBackward1>)
    """

    def __init__(self, models: Sequence[nn.Module]) -> None:
        super().__init__()
        if not models:
            raise ValueError("FoldEnsemble needs at least one model")
        self.folds = nn.ModuleList(models)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        probabilities = [torch.softmax(model(image).float(), dim=1) for model in self.folds]
        return torch.stack(probabilities).mean(dim=0)
