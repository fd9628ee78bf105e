"""Class imbalance (`train.imbalance`): weight the loss, or draw balanced batches, or neither."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from medtl.engine.training.recipe.settings import IMBALANCE


def class_weights(y: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights (scikit-learn's "balanced"), so a rare class counts as much as a common one.

    Example:
        >>> class_weights(np.array([0, 0, 0, 1]), 2)
        tensor([0.6667, 2.0000])
    """
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weights = len(y) / (n_classes * np.maximum(counts, 1.0))
    return torch.tensor(weights, dtype=torch.float32)


class Balancing(NamedTuple):
    """What `train` takes to counter class imbalance: cross-entropy class weights, or one sampling weight per
    training item (for torch's `WeightedRandomSampler`), or neither."""

    loss_weights: torch.Tensor | None
    sample_weights: np.ndarray | None


def balancing(how: str, y: np.ndarray, n_classes: int) -> Balancing:
    """The balancing of training labels `y` (class indices): "loss" weights each class's loss by its inverse
    frequency, "sampler" draws each item with probability inverse to its class's frequency (every class then
    fills about the same share of a batch), "none" does neither.

    Example:
        >>> balancing("sampler", np.array([0, 0, 0, 1]), 2).sample_weights.tolist()
        [0.6666666865348816, 0.6666666865348816, 0.6666666865348816, 2.0]
        >>> balancing("none", np.array([0, 1]), 2)
        Balancing(loss_weights=None, sample_weights=None)
    """
    if how not in IMBALANCE:
        raise ValueError(f"train.imbalance must be one of {list(IMBALANCE)}. Got {how!r} instead.")
    if how == "none":
        return Balancing(None, None)
    weights = class_weights(y, n_classes)
    if how == "loss":
        return Balancing(weights, None)
    return Balancing(None, weights.numpy()[y].astype(np.float64))
