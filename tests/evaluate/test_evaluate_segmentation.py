"""Dice and HD95 per case (MONAI) on 16^3 masks with known answers, and the per-patient summary."""
import numpy as np
import pandas as pd
import pytest

from medtl.evaluate.segmentation import segmentation_metrics, summarize_segmentation


def _cube(start: tuple[int, int, int], size: int = 4) -> np.ndarray:
    mask = np.zeros((16, 16, 16), np.uint8)
    z, y, x = start
    mask[z:z + size, y:y + size, x:x + size] = 1
    return mask


def test_dice_and_hd95_of_known_overlaps_with_spacing():
    truth = _cube((4, 4, 4))
    shifted = _cube((6, 4, 4))  # half the cube overlaps; surfaces are 2 voxels apart along z
    per_case = segmentation_metrics([truth, shifted, shifted], [truth, truth, truth],
                                    spacing=[(1.0, 1.0, 1.0), (1.0, 1.0, 1.0), (2.5, 1.0, 1.0)],
                                    case_ids=["same", "shift", "shift-thick"], patient_ids=["p1", "p1", "p2"])
    assert per_case.columns.tolist() == ["case_id", "patient_id", "dice", "hd95"]
    assert per_case["dice"].tolist() == pytest.approx([1.0, 0.5, 0.5])
    assert per_case["hd95"].tolist() == pytest.approx([0.0, 2.0, 5.0])


def test_empty_masks_give_nan_not_a_crash():
    empty = np.zeros((16, 16, 16), np.uint8)
    per_case = segmentation_metrics([empty, empty], [empty, _cube((2, 2, 2))])
    assert np.isnan(per_case.loc[0, "dice"]) and per_case.loc[1, "dice"] == 0.0
    assert per_case["hd95"].isna().all()


def test_shape_mismatch_names_the_case():
    with pytest.raises(ValueError, match=r"case 'c7': predicted mask shape \(16, 16, 8\) differs"):
        segmentation_metrics([np.zeros((16, 16, 8))], [np.zeros((16, 16, 16))], case_ids=["c7"])


def test_patient_summary_averages_cases_first_then_patients():
    per_case = pd.DataFrame({"case_id": list("abcd"), "patient_id": ["p1", "p1", "p2", "p3"],
                             "dice": [0.9, 0.5, 0.8, np.nan], "hd95": [1.0, 3.0, 4.0, np.nan]})
    summary = summarize_segmentation(per_case, n_boot=400, seed=0)
    assert (summary["n_cases"], summary["n_patients"]) == (4, 3)
    assert summary["dice"]["mean"] == pytest.approx((0.7 + 0.8) / 2) and summary["dice"]["n"] == 2
    assert summary["hd95"]["mean"] == pytest.approx((2.0 + 4.0) / 2)
    lo, hi = summary["dice"]["ci"]
    assert lo == pytest.approx(0.7) and hi == pytest.approx(0.8)  # only two patients: resamples span 0.7..0.8
