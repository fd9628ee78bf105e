"""Grad-CAM of a tiny CNN that learned to find a bright blob points at the blob; a re-initialised CNN does not."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from medtl.explain import pointing_game, randomization_check, saliency

SIZE = 32
BLOB_RADIUS = 3


class TinyCNN(nn.Module):
    def __init__(self, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.block1 = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.block2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.block3 = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.block3(self.block2(self.block1(x))))


def blob_images(n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Noise images; the odd ones (class 1) carry a bright Gaussian blob at a random place, given by `masks`."""
    rows, cols = np.mgrid[:SIZE, :SIZE]
    images = rng.normal(0, 0.3, (n, SIZE, SIZE))
    masks = np.zeros((n, SIZE, SIZE), bool)
    labels = np.arange(n) % 2
    for i in np.flatnonzero(labels):
        r, c = rng.integers(5, SIZE - 5, size=2)
        distance2 = (rows - r) ** 2 + (cols - c) ** 2
        images[i] += 2.0 * np.exp(-distance2 / (2 * 1.5**2))
        masks[i] = distance2 <= BLOB_RADIUS**2
    return torch.tensor(images[:, None], dtype=torch.float32), torch.tensor(labels), masks


@pytest.fixture(scope="module")
def trained() -> TinyCNN:
    model = TinyCNN(seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for _ in range(60):
        images, labels, _ = blob_images(32, rng)
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


@pytest.fixture(scope="module")
def positives() -> tuple[torch.Tensor, np.ndarray]:
    images, labels, masks = blob_images(80, np.random.default_rng(1))
    return images[labels == 1], masks[labels.numpy() == 1]


def hit_rate(model: nn.Module, images: torch.Tensor, masks: np.ndarray, method: str) -> float:
    maps = saliency(model, images, target_layer="block3", method=method, class_idx=1).numpy()
    return float(np.mean([pointing_game(m, mask) for m, mask in zip(maps, masks)]))


def test_grad_cam_points_at_the_blob_only_after_training(trained, positives):
    images, masks = positives
    with torch.no_grad():
        accuracy = float((trained(images).argmax(1) == 1).float().mean())
    chance = float(masks.mean())
    trained_rate = hit_rate(trained, images, masks, "gradcam")
    untrained_rate = hit_rate(TinyCNN(seed=1), images, masks, "gradcam")
    correlation = randomization_check(trained, images, "block3", "gradcam", layers_to_reset=2)
    print(f"\n2D blob: accuracy on positives {accuracy:.2f}; pointing game hit rate: trained {trained_rate:.2f}, "
          f"re-initialised {untrained_rate:.2f}, chance (blob area share) {chance:.3f}; "
          f"randomisation Spearman {correlation:.2f}")
    assert accuracy > 0.9
    assert trained_rate >= 0.8 and trained_rate > 10 * chance
    assert untrained_rate < 0.5 * trained_rate
    assert correlation < 0.5


@pytest.mark.parametrize("method", ["gradcampp", "occlusion"])
def test_other_methods_also_find_the_blob(trained, positives, method):
    images, masks = positives
    images, masks = images[:12], masks[:12]
    rate = hit_rate(trained, images, masks, method)
    print(f"\n2D blob: {method} pointing game hit rate {rate:.2f} (chance {masks.mean():.3f})")
    assert rate >= 0.7


def test_saliency_leaves_the_model_as_it_was(trained, positives):
    images, _ = positives
    trained.train()
    trained.block1[1].inplace = True
    try:
        maps = saliency(trained, images[:4], target_layer="block1.1")
        assert trained.training and all(m.training for m in trained.modules())
        assert trained.block1[1].inplace
        assert all(not m._forward_hooks and not m._backward_hooks for m in trained.modules())
        assert all(p.grad is None for p in trained.parameters())
        assert maps.shape == (4, SIZE, SIZE) and float(maps.min()) == 0.0 and float(maps.max()) == 1.0
    finally:
        trained.block1[1].inplace = False
        trained.eval()


def test_bad_arguments_are_named(trained, positives):
    images, _ = positives
    with pytest.raises(ValueError, match="method must be a str among"):
        saliency(trained, images[:2], "block3", method="lime")
    with pytest.raises(ValueError, match="'block9' is not a submodule"):
        saliency(trained, images[:2], "block9")
    with pytest.raises(ValueError, match="class_idx must be a class index below 2"):
        saliency(trained, images[:2], "block3", class_idx=5)
