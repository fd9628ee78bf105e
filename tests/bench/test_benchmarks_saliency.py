"""The saliency benchmark's second cohort is made differently and its masks cover the lesions it pasted."""
from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from benchmarks.saliency import choose
from benchmarks.saliency_cohorts import OTHER_PADDING, other_xray


def test_other_cohort_is_letterboxed_png_with_masks_on_its_lesions(tmp_path):
    root = other_xray(tmp_path / "other", patients=6, seed=0, size=32)
    cases = pd.read_csv(root / "cases.csv", dtype=str)
    assert set(cases["label"]) == {"clear", "lesion"} and cases["path"].str.endswith(".png").all()
    pad = round(OTHER_PADDING * 32)
    for case in cases.itertuples():
        image = np.asarray(Image.open(root / case.path))
        mask = np.asarray(Image.open(root / case.mask)) > 0
        assert image.dtype == np.uint8 and image.shape == mask.shape == (32, 32 + 2 * pad)
        assert not image[:, :pad].any() and not mask[:, :pad].any()  # black padding, no lesion on it
        assert mask.any() == (case.label == "lesion")


def test_the_default_is_the_best_pointing_method_within_the_cost_limit():
    rows = [{"A": {"pointing": 0.9, "energy": 0.2}, "cost": 40.0},
            {"A": {"pointing": 0.7, "energy": 0.1}, "cost": 3.0},
            {"A": {"pointing": 0.7, "energy": 0.3}, "cost": 2.0},
            {"A": {"pointing": 0.8, "energy": 0.3}, "cost": float("nan")}]
    assert choose(rows, 5.0) is rows[2]
    assert choose(rows, 5.0, auc=0.55) is None  # a model that has not learned the task chooses nothing
