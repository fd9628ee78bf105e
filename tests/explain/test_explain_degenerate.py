"""Maps that are no evidence are flagged in explain/summary.json and not drawn on the overlay."""
from __future__ import annotations

import io
import json

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from medtl.explain import degenerate_reason, explain_cases, saliency, write_explain_summary
from medtl.explain.degenerate import BORDER, EMPTY, PADDING, RANDOMIZATION
from medtl.io.image import ImageData

SIZE = 32


def negative_evidence_cnn() -> nn.Sequential:
    """A CNN whose class 1 logit falls as any activation rises: its Grad-CAM for class 1 is negative everywhere."""
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(4, 2))
    with torch.no_grad():
        net[0].weight.fill_(0.1)
        net[0].bias.fill_(0.5)
        net[4].weight.copy_(torch.tensor([[1.0] * 4, [-1.0] * 4]))
    return net.eval()


def images_and_data(n: int) -> tuple[torch.Tensor, list[ImageData]]:
    pixels = torch.rand(n, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    data = [ImageData(p[0].numpy(), np.eye(4), (1.0, 1.0), {"source": f"c{i}.png"}) for i, p in enumerate(pixels)]
    return pixels, data


def coloured_pixels(png: bytes) -> int:
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int((np.ptp(rgb, axis=2) > 30).sum())


def test_negative_grad_cam_is_flagged_counted_and_not_drawn(tmp_path):
    model = negative_evidence_cnn()
    images, data = images_and_data(2)
    assert float(saliency(model, images, "1", "gradcam", class_idx=1).max()) == 0.0
    part = explain_cases(model, images, data, ["c0", "c1"], None, tmp_path, "1", "gradcam", class_idx=1,
                         layers_to_reset=1)
    summary = write_explain_summary([part], tmp_path, chosen_by="explain.method")
    assert [c["degenerate"] for c in summary["cases"]] == [EMPTY, EMPTY]
    assert summary["n_degenerate"] == 2 and summary["degenerate_reasons"] == {EMPTY: 2}
    assert json.loads((tmp_path / "summary.json").read_text())["n_degenerate"] == 2
    assert coloured_pixels((tmp_path / "c0.png").read_bytes()) == 0  # the image alone, in grey


def test_a_sound_map_is_drawn_and_not_flagged(tmp_path):
    model = negative_evidence_cnn()
    images, data = images_and_data(1)
    images[0, 0, 14:18, 14:18] += 3.0  # the brightest spot, well inside the image
    part = explain_cases(model, images, data[:1], ["c0"], None, tmp_path, "1", "gradcam", class_idx=0,
                         layers_to_reset=1)
    assert part["cases"][0]["degenerate"] is None
    assert coloured_pixels((tmp_path / "c0.png").read_bytes()) > 100


def test_border_padding_and_randomisation_are_told_apart():
    image = np.random.default_rng(0).random((1, SIZE, SIZE))
    heat = np.zeros((SIZE, SIZE))
    heat[0, 5] = 1.0
    assert degenerate_reason(heat, image) == BORDER
    padded = image.copy()
    padded[0, 8:16, 8:16] = 0.0
    heat = np.zeros((SIZE, SIZE))
    heat[12, 12] = 1.0
    assert degenerate_reason(heat, padded) == PADDING
    assert degenerate_reason(heat, image) is None
    assert degenerate_reason(heat, image, randomization=0.97).startswith(RANDOMIZATION)
    assert degenerate_reason(heat, image, randomization=0.3) is None
    assert degenerate_reason(np.full((SIZE, SIZE), 0.5), image) == EMPTY
