"""The independent chest cohort: DICOM medtl reads, one visible nodule per positive image, masks on it."""
from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image
from scipy.ndimage import binary_dilation

from benchmarks.chest_phantom import RADIUS_PX, nodule_cohort
from medtl.io import read_image


def test_positive_images_carry_one_brighter_nodule_of_the_stated_size(tmp_path):
    root = nodule_cohort(tmp_path / "c", patients=8, seed=3, size=128)
    cases = pd.read_csv(root / "cases.csv", dtype=str)
    assert set(cases["label"]) == {"normal", "nodule"}
    assert cases.groupby("patient_id")["label"].nunique().eq(1).all()  # a patient's images share the label
    assert cases.groupby("patient_id").size().between(1, 3).all()
    for case in cases.itertuples():
        image = read_image(root / case.path).array
        mask = np.asarray(Image.open(root / case.mask)) > 0
        assert image.shape == mask.shape == (128, 128)
        assert mask.any() == (case.label == "nodule")
        if mask.any():
            radius = np.sqrt(mask.sum() / np.pi) * 256 / 128
            assert RADIUS_PX[0] - 1 <= radius <= RADIUS_PX[1] + 1
            ring = binary_dilation(mask, iterations=4) & ~mask
            assert image[mask].mean() > image[ring].mean()
