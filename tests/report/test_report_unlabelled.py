"""The report of predictions on new data: no label, no fold, no metrics; the same aggregation as labelled runs."""
from __future__ import annotations

import pandas as pd
import pytest

from medtl.evaluate import aggregate
from medtl.report import CohortSummary, write_predictions_report

PRED = pd.DataFrame({"case_id": ["a1", "a2", "b1"], "patient_id": ["A", "A", "B"],
                     "p_normal": [0.9, 0.3, 0.6], "p_nodule": [0.1, 0.7, 0.4]})
COHORT = CohortSummary(positive="nodule", auc=None, ci_low=None, ci_high=None, threshold=0.6, aggregate="max")


def test_unlabelled_predictions_aggregate_like_labelled_ones():
    labelled = PRED.assign(fold=0, label=["nodule", "nodule", "normal"], y_true=[1, 1, 0])
    plain, full = aggregate(PRED, how="max"), aggregate(labelled, how="max")
    assert list(plain.columns) == ["patient_id", "n_images", "p_normal", "p_nodule"]
    pd.testing.assert_frame_equal(plain, full[plain.columns])
    assert plain["p_nodule"].tolist() == pytest.approx([0.7, 0.4])
    with pytest.raises(ValueError, match=r"needs both \['label', 'y_true'\] or neither"):
        aggregate(PRED.assign(label="nodule"))


def test_unlabelled_report_shows_calls_but_no_metrics_or_labels(tmp_path):
    index = write_predictions_report(PRED, COHORT, tmp_path, note="Predictions of a test model.")
    html = index.read_text()
    assert "Predictions of a test model." in html and "threshold 0.6" in html and "by max" in html
    assert "AUC" not in html and "<th>label</th>" not in html and "<th>fold</th>" not in html
    patients = pd.read_csv(tmp_path / "reports" / "patients.csv")
    assert patients.to_dict("list") == {"patient_id": ["A", "B"], "n_images": [2, 1], "probability": [0.7, 0.4],
                                        "prediction": ["nodule", "normal"]}
    page = (tmp_path / "reports" / "A.html").read_text()
    assert "prediction <b>nodule</b>." in page and "label" not in page and "No saliency map" in page
    assert list(PRED.columns) == ["case_id", "patient_id", "p_normal", "p_nodule"]  # the caller's frame is untouched
