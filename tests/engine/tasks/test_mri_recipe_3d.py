"""The 3D recipe: resampling to a common spacing, foreground-aware intensity, 3D flips, weights fallback."""
from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from medtl.config import ExperimentConfig
from medtl.engine.training.setup import Pipelines, build_model
from medtl.engine.pipeline.transforms import LoadCased, ScaleForegroundd, augment


def _nifti(path, array, spacing):
    nib.save(nib.Nifti1Image(array.astype(np.float32), np.diag([*spacing, 1.0])), path)
    return str(path)


def test_volumes_are_resampled_to_the_common_spacing_before_resizing(tmp_path):
    fine = _nifti(tmp_path / "fine.nii.gz", np.ones((21, 21, 13)), (1.0, 1.0, 2.0))  # 20 x 20 x 24 mm
    coarse = _nifti(tmp_path / "coarse.nii.gz", np.ones((11, 11, 5)), (2.0, 2.0, 6.0))
    load = LoadCased(spacing=(2.0, 2.0, 6.0))
    assert load({"image": fine})["image"].shape == load({"image": coarse})["image"].shape == (1, 11, 11, 5)
    assert LoadCased()({"image": fine})["image"].shape == (1, 21, 21, 13)
    mask = _nifti(tmp_path / "mask.nii.gz", np.pad(np.ones((8, 8, 4)), ((6, 7), (6, 7), (4, 5))), (1.0, 1.0, 2.0))
    resampled = load({"image": fine, "mask": mask})["mask"]
    assert set(np.unique(resampled)) == {0.0, 1.0} and 8 <= resampled.sum() <= 32  # 256 mm^3 / 24 mm^3
    with pytest.raises(ValueError, match=r"fine.nii.gz: transforms.spacing \[2.0, 2.0\] has 2 axes"):
        LoadCased(spacing=(2.0, 2.0))({"image": fine})


def test_foreground_scaling_ignores_how_much_air_surrounds_the_head():
    rng = np.random.default_rng(0)
    head = rng.normal(100.0, 10.0, (8, 8, 8)).astype(np.float32) * 7.0  # other scanner units, too
    small, large = (np.pad(head, pad)[None] + rng.rayleigh(2.0, (8 + 2 * pad,) * 3)[None] for pad in (2, 12))
    inside = [ScaleForegroundd("image")({"image": v})["image"][0, p:p + 8, p:p + 8, p:p + 8]
              for v, p in ((small, 2), (large, 12))]
    assert np.allclose(inside[0], inside[1], atol=0.1) and abs(inside[0].mean()) < 0.05
    percentile = Pipelines.from_config(ExperimentConfig.from_dict({}))  # the 2D default: percentile scaling
    assert percentile.key != Pipelines.from_config(ExperimentConfig.from_dict(
        {"transforms": {"intensity": "foreground"}})).key


def test_only_volumes_are_flipped_left_right():
    names = lambda dims: [t.__class__.__name__ for t in augment(dims, with_mask=True).transforms]  # noqa: E731
    assert "RandFlipd" in names(3) and "RandFlipd" not in names(2)
    flip = next(t for t in augment(3, with_mask=True).transforms if t.__class__.__name__ == "RandFlipd")
    assert flip.flipper.spatial_axis == 0


def test_missing_cached_weights_fall_back_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDTL_HOME", str(tmp_path))
    cfg = ExperimentConfig.from_dict({"model": {"backbone": "resnet10_3d", "weights": "medtl:not-cached"}})
    with pytest.raises(FileNotFoundError, match="medtl:not-cached"):
        build_model(cfg, num_classes=2)
    with pytest.warns(UserWarning, match=r"medtl:not-cached.*model.weights_fallback=none"):
        model = build_model(cfg.with_overrides(["model.weights_fallback=none"]), num_classes=2)
    assert model.load_report is None
