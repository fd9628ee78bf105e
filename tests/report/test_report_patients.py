"""Per-patient table: aggregation of image probabilities, thresholded calls, labels, folds, clear refusals."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from medtl.report import pseudonym, pseudonymize_ids, write_patients_table


@pytest.fixture
def pred() -> pd.DataFrame:
    return pd.DataFrame({
        "case_id": ["a1", "a2", "a3", "b1", "c1"],
        "patient_id": ["A", "A", "A", "B", "C"],
        "fold": [0, 0, 0, 1, 1],
        "label": ["normal", "effusion", "normal", "normal", "effusion"],
        "y_true": [0, 1, 0, 0, 1],
        "p_normal": [0.9, 0.2, 0.8, 0.6, 0.45],
        "p_effusion": [0.1, 0.8, 0.2, 0.4, 0.55],
    })


def test_patients_are_aggregated_and_called_at_the_threshold(pred, tmp_path):
    table = write_patients_table(pred, tmp_path, threshold=0.5, positive="effusion").set_index("patient_id")
    assert table.loc["A", "n_images"] == 3 and table.loc["A", "probability"] == pytest.approx(1.1 / 3)
    assert table.loc["A", "label"] == "normal"  # the majority of the patient's images, as the metrics use
    assert list(table["prediction"]) == ["normal", "normal", "effusion"]
    assert list(table["fold"]) == [0, 1, 1]
    records = json.loads((tmp_path / "patients.json").read_text())
    assert [r["patient_id"] for r in records] == ["A", "B", "C"]
    written = pd.read_csv(tmp_path / "patients.csv")
    assert list(written.columns) == ["patient_id", "n_images", "probability", "prediction", "label", "fold"]
    by_max = write_patients_table(pred, tmp_path, threshold=0.5, aggregate_how="max", positive="effusion")
    assert by_max.set_index("patient_id").loc["A", "prediction"] == "effusion"


def test_bad_input_is_refused_with_a_reason(pred, tmp_path):
    with pytest.raises(ValueError, match="aggregate_how must be a str among"):
        write_patients_table(pred, tmp_path, 0.5, aggregate_how="sum", positive="effusion")
    with pytest.raises(ValueError, match="say which class is positive"):
        write_patients_table(pred, tmp_path, 0.5)
    with pytest.raises(ValueError, match="positive class 'nodule' has no column p_nodule"):
        write_patients_table(pred, tmp_path, 0.5, positive="nodule")
    leaky = pred.assign(fold=[0, 1, 0, 1, 1])
    with pytest.raises(ValueError, match="patient_id 'A' has predictions from 2 different folds"):
        write_patients_table(leaky, tmp_path, 0.5, positive="effusion")


def test_pseudonyms_are_keyed_and_stable(pred):
    hidden = pseudonymize_ids(pred, "k1")
    assert set(hidden["patient_id"]) == {pseudonym(p, "k1") for p in "ABC"}
    assert not set(hidden["case_id"]) & set(pred["case_id"])
    assert pseudonym("A", "k1") == pseudonym("A", "k1") != pseudonym("A", "k2")
    assert len(pseudonym("A", "k1")) == 12 and int(pseudonym("A", "k1"), 16) >= 0
    with pytest.raises(ValueError, match="non-empty"):
        pseudonym("A", "")
