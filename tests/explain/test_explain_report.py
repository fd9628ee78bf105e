"""The report shows how saliency was chosen, how many maps were flagged, why, and lesion scores against chance."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from medtl.explain import save_overlay
from medtl.io.image import ImageData
from medtl.report.html import CohortSummary, write_predictions_report


def test_flagged_maps_are_captioned_and_counted(tmp_path):
    (tmp_path / "explain").mkdir()
    image = ImageData(np.random.default_rng(0).random((32, 32), dtype=np.float32), np.eye(4), (1.0, 1.0))
    for case_id in ("A_1", "B_1"):
        save_overlay(np.random.default_rng(1).random((32, 32)), image, tmp_path / "explain" / f"{case_id}.png")
    reason = "maximum on the image border"
    summary = {"method": "gradcam", "target_layer": "layer2", "chosen_by": "explain.method", "n_cases": 2,
               "n_degenerate": 1, "degenerate_reasons": {reason: 1}, "pointing_game_hit_rate": 0.5,
               "pointing_game_chance": 0.02, "mean_energy_in_mask": 0.3, "energy_in_mask_chance": 0.02,
               "cases": [{"case_id": "A_1", "degenerate": reason}, {"case_id": "B_1", "degenerate": None}]}
    (tmp_path / "explain" / "summary.json").write_text(json.dumps(summary))
    pred = pd.DataFrame({"case_id": ["A_1", "B_1"], "patient_id": ["A", "B"], "label": ["nodule", "normal"],
                         "y_true": [1, 0], "p_normal": [0.2, 0.9], "p_nodule": [0.8, 0.1]})
    index = write_predictions_report(pred, CohortSummary("nodule", None, None, None, 0.5), tmp_path)
    text = index.read_text()
    assert f"maps flagged as no evidence (not drawn)</td><td>1 ({reason}: 1)" in text
    assert "the same for a uniform map (chance)</td><td>0.020" in text and "layer2" in text
    flagged, sound = (index.parent / "A.html").read_text(), (index.parent / "B.html").read_text()
    assert f"Saliency map not shown: {reason}." in flagged and "base64" in flagged
    assert "not shown" not in sound and "base64" in sound
