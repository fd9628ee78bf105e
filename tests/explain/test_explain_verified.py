"""`verified`: gradient peaks checked by hiding them, against a model whose gradient points at a decoy."""
from __future__ import annotations

from pathlib import Path

import nibabel.testing
import numpy as np
import pytest
import torch
import torch.nn as nn
from pydicom.data import get_testdata_file

from medtl.explain import saliency
from medtl.explain.verified import local_maxima
from medtl.io import read_image
from medtl.models import create_model

DECOY, LESION = (slice(5, 8), slice(5, 8)), (slice(22, 25), slice(22, 25))


class DecoyModel(nn.Module):
    """Two classes scored by the lesion's brightness alone; the decoy spot adds a large gradient and no value."""

    def __init__(self, lesion_weight: float = 1.0):
        super().__init__()
        self.lesion_weight = lesion_weight
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        decoy = x[:, 0, DECOY[0], DECOY[1]].sum((1, 2))
        lesion = x[:, 0, LESION[0], LESION[1]].sum((1, 2))
        score = self.scale * (self.lesion_weight * lesion + 5.0 * (decoy - decoy.detach()))
        return torch.stack([-score, score], 1)


def two_spots() -> torch.Tensor:
    images = torch.full((2, 1, 32, 32), 0.1)
    images[:, 0, DECOY[0], DECOY[1]] = images[:, 0, LESION[0], LESION[1]] = 1.0
    return images


def peak_of(heat: torch.Tensor) -> tuple[int, int]:
    return divmod(int(heat.flatten().argmax()), heat.shape[-1])


def inside(point: tuple[int, int], region: tuple[slice, slice]) -> bool:
    return all(part.start - 1 <= p <= part.stop for p, part in zip(point, region))


def test_the_peak_moves_from_a_decoy_gradient_to_the_spot_whose_hiding_lowers_the_score():
    model, images = DecoyModel().eval(), two_spots()
    plain = saliency(model, images, method="gradxlocal", class_idx=1)
    checked = saliency(model, images, method="verified", class_idx=1)
    for before, after in zip(plain, checked):
        assert inside(peak_of(before), DECOY)
        assert inside(peak_of(after), LESION)
        assert after.max() == 1.0 and after.min() >= 0.0


def test_a_map_is_kept_as_it_was_when_no_peak_matters():
    model, images = DecoyModel(lesion_weight=0.0).eval(), two_spots()  # the score is constant: nothing matters
    plain = saliency(model, images, method="gradxlocal", class_idx=1)
    checked = saliency(model, images, method="verified", class_idx=1)
    torch.testing.assert_close(checked, plain, atol=1e-5, rtol=0)


def test_local_maxima_are_apart_ranked_and_padded_in_3d():
    heat = torch.zeros(1, 12, 12, 12)
    heat[0, 2, 2, 2], heat[0, 2, 2, 3], heat[0, 9, 9, 9] = 1.0, 0.9, 0.5  # 0.9 sits next to the 1.0
    peaks = local_maxima(heat, radius=2, count=3)
    assert peaks.tolist() == [[2 * 144 + 2 * 12 + 2, 9 * 144 + 9 * 12 + 9, -1]]


@pytest.mark.parametrize("file, backbone", [("CT_small.dcm", "resnet18"), ("anatomical.nii", "resnet10_3d")])
def test_files_medtl_did_not_make_get_a_map_on_their_own_grid(file, backbone):
    """pydicom's 128^2 CT slice and nibabel's 33x41x25 volume (odd, unequal sides) through the default method."""
    path = get_testdata_file(file) if file.endswith(".dcm") else Path(nibabel.testing.data_path) / file
    pixels = np.asarray(read_image(path).array, dtype=np.float32)
    images = torch.as_tensor((pixels - pixels.mean()) / pixels.std())[None, None]
    torch.manual_seed(0)
    heat = saliency(create_model(backbone).eval(), images, method="verified", class_idx=1)
    assert heat.shape == (1, *pixels.shape) and torch.isfinite(heat).all()
    assert heat.min() == 0.0 and heat.max() == 1.0


@pytest.mark.parametrize("shape, radius", [((2, 20, 17), 2.6), ((2, 11, 13, 9), 1.4)])
def test_local_maxima_are_the_maxima_of_their_whole_window(shape, radius):
    heat = torch.rand(*shape, generator=torch.Generator().manual_seed(3)) ** 3
    half = max(1, round(radius))
    padded = np.pad(heat.numpy(), [(0, 0)] + [(half, half)] * (heat.ndim - 1), constant_values=-np.inf)

    def window_max(image: int, index: int) -> float:
        point = np.unravel_index(index, shape[1:])
        return padded[(image, *[slice(p, p + 2 * half + 1) for p in point])].max()

    for image, indices in enumerate(local_maxima(heat, radius, 4).tolist()):
        values = heat[image].flatten().tolist()
        assert all(values[i] == window_max(image, i) for i in indices)
        # no point whose window it tops is left out in favour of a lower one
        tops = [i for i, v in enumerate(values) if v > min(values[i] for i in indices) and v == window_max(image, i)]
        assert set(tops) <= set(indices)
