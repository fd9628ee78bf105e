"""Heatmaps go back to the source file's own grid: oblique, anisotropic, non-RAS NIfTI and 2D images."""
from __future__ import annotations

import io
import json

import nibabel as nib
import numpy as np
import pytest
import torch
import torch.nn as nn
from monai.transforms import Resize
from PIL import Image

from medtl.explain import explain_cases, write_explain_summary, save_heatmap, save_overlay, three_plane_montage, to_source_geometry
from medtl.io.image import ImageData

SOURCE_SHAPE = (20, 14, 8)
ZOOMS = (1.0, 1.5, 3.0)
BLOB = (6, 9, 3)
MODEL_INPUT = (16, 16, 16)


def oblique_affine() -> np.ndarray:
    """Voxel axes (S, L, A) scaled by ZOOMS, then rotated 20 degrees about the vertical axis."""
    axes = np.array([[0, -1, 0], [0, 0, 1], [1, 0, 0]], float)  # columns: +S, -R (= L), +A
    angle = np.deg2rad(20)
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ axes @ np.diag(ZOOMS)
    affine[:3, 3] = (12.0, -30.0, 41.0)
    return affine


@pytest.fixture
def oblique_nifti(tmp_path):
    grid = np.indices(SOURCE_SHAPE)
    distance2 = sum((g - b) ** 2 for g, b in zip(grid, BLOB))
    path = tmp_path / "oblique.nii.gz"
    nib.save(nib.Nifti1Image(np.exp(-distance2 / 2.0).astype(np.float32), oblique_affine()), str(path))
    return path


def read_like_medtl(path) -> ImageData:
    canonical = nib.as_closest_canonical(nib.load(str(path)))
    zooms = tuple(float(z) for z in canonical.header.get_zooms()[:3])
    return ImageData(np.asarray(canonical.dataobj, np.float32), canonical.affine, zooms,
                     {"source": str(path), "format": "nifti"})


def model_input(image: ImageData) -> torch.Tensor:
    return torch.as_tensor(Resize(MODEL_INPUT, mode="trilinear")(image.array[None]))


def test_heatmap_lands_on_the_blob_voxel_of_the_source_file(oblique_nifti, tmp_path):
    image = read_like_medtl(oblique_nifti)
    assert image.array.shape != SOURCE_SHAPE  # the canonical grid differs, so a wrong inverse cannot pass
    heatmap = model_input(image)[0]  # peaks where the image does, on the model's 16^3 grid
    saved = nib.load(str(save_heatmap(heatmap, image, tmp_path / "explain" / "case.nii.gz")))
    source = nib.load(str(oblique_nifti))
    assert saved.shape == source.shape
    np.testing.assert_allclose(saved.affine, source.affine, atol=1e-5)
    peak = np.unravel_index(np.argmax(saved.get_fdata()), saved.shape)
    print(f"\n3D orientation: blob at source voxel {BLOB}, saved heatmap peak at {tuple(int(p) for p in peak)}")
    assert max(abs(int(p) - b) for p, b in zip(peak, BLOB)) <= 1


def test_two_dimensional_heatmap_is_one_slice_with_pixel_spacing(tmp_path):
    image = ImageData(np.random.default_rng(0).random((24, 40), dtype=np.float32), np.diag([0.5, 0.7, 1, 1]),
                      (0.5, 0.7), {"source": str(tmp_path / "xray.png"), "format": "png"})
    heatmap = np.zeros((32, 32), np.float32)
    heatmap[4, 28] = 1.0
    array, affine = to_source_geometry(heatmap, image, image.meta["source"])
    assert array.shape == (24, 40, 1)
    row, col, _ = np.unravel_index(np.argmax(array), array.shape)
    assert abs(row - 4 * 24 / 32) <= 1 and abs(col - 28 * 40 / 32) <= 1
    saved = nib.load(str(save_heatmap(heatmap, image, tmp_path / "x.nii.gz")))
    assert saved.shape == (24, 40, 1) and np.allclose(saved.header.get_zooms(), (0.5, 0.7, 1.0))
    png = Image.open(save_overlay(heatmap, image, tmp_path / "x.png"))
    assert png.format == "PNG" and png.width > png.height  # 40 columns of 0.7 mm are wider than 24 rows of 0.5 mm


def test_source_that_does_not_match_the_image_is_refused(oblique_nifti):
    wrong = ImageData(np.zeros((9, 9, 9), np.float32), np.eye(4), (1.0, 1.0, 1.0), {"source": str(oblique_nifti)})
    with pytest.raises(ValueError, match="oblique.nii.gz: file grid"):
        to_source_geometry(np.zeros(MODEL_INPUT), wrong, oblique_nifti)


def test_three_plane_montage_is_three_panels_wide():
    volume = np.random.default_rng(0).random((16, 16, 16))
    picture = Image.open(io.BytesIO(three_plane_montage(volume, volume, spacing=(1.0, 1.0, 1.0))))
    assert picture.format == "PNG" and picture.width > 2.5 * picture.height


class TinyCNN3D(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),
                                      nn.Conv3d(4, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(8, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def test_explain_cases_writes_source_geometry_overlays_and_summary(oblique_nifti, tmp_path):
    image = read_like_medtl(oblique_nifti)
    batch = torch.cat([model_input(image)[None]] * 2)
    mask = image.array > 0.5
    out = tmp_path / "explain"
    part = explain_cases(TinyCNN3D(), batch, [image, image], ["c1", "c2"], [mask, None], out, "features",
                         method="gradcampp", layers_to_reset=1)
    summary = write_explain_summary([part], out)
    assert nib.load(str(out / "c1.nii.gz")).shape == SOURCE_SHAPE
    assert Image.open(out / "c2.png").format == "PNG"
    written = json.loads((out / "summary.json").read_text())
    assert written == summary
    assert written["n_cases"] == 2 and written["n_with_mask"] == 1
    assert written["cases"][0]["pointing_hit"] in (True, False) and written["cases"][1]["pointing_hit"] is None
    assert 0 <= written["mean_energy_in_mask"] <= 1
    assert written["pointing_game_chance"] == pytest.approx(float(mask.mean()))
    with pytest.raises(ValueError, match="case c1: mask shape"):
        explain_cases(TinyCNN3D(), batch[:1], [image], ["c1"], [mask[:-1]], out, "features")
