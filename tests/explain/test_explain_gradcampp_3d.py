"""Grad-CAM++ on a batch of 3D volumes (5-D tensors): each image gets its own map, as if explained alone."""
from __future__ import annotations

import torch
import torch.nn as nn

from medtl.explain import saliency


def test_gradcampp_on_a_five_dimensional_batch_matches_one_by_one():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.ReLU(inplace=True), nn.Conv3d(4, 6, 3, padding=1),
                          nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(6, 3))
    volumes = torch.rand(2, 1, 16, 16, 16)
    volumes[1, :, 2:6, 9:13, 4:8] += 3.0
    # Different classes per image: MONAI alone scores logits[:, [c0, c1]] for both and broadcasts the
    # Grad-CAM++ score along the last spatial axis; medtl scores each image on its own class.
    classes = torch.tensor([0, 2])
    batched = saliency(model, volumes, target_layer="2", method="gradcampp", class_idx=classes)
    alone = torch.cat([saliency(model, volumes[i : i + 1], "2", "gradcampp", int(classes[i])) for i in range(2)])
    assert batched.shape == (2, 16, 16, 16)
    assert float(batched.min()) >= 0.0 and float(batched.max()) == 1.0
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(batched[0], batched[1])
    assert model[1].inplace and all(not m._forward_hooks and not m._backward_hooks for m in model.modules())
