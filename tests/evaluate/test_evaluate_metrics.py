"""AUC against scikit-learn, the patient bootstrap, image -> patient aggregation, operating points, calibration."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from medtl.evaluate import (LeakageError, aggregate, auc, bootstrap_auc_ci, brier, confusion_at,
                            paired_bootstrap_diff, point_at_specificity, prediction_classes, reliability, youden_point)
from medtl.evaluate.auc import _weighted_auc
from medtl.evaluate.bootstrap import cluster_weights

Y_BINARY = np.array([0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1])
P_BINARY = np.array([0.1, 0.3, 0.35, 0.6, 0.4, 0.8, 0.7, 0.2, 0.9, 0.35, 0.5, 0.65])
Y_MULTI = np.array([0, 1, 2, 2, 1, 0, 2, 1, 0, 2])
P_MULTI = np.array([[.7, .2, .1], [.2, .5, .3], [.1, .3, .6], [.3, .3, .4], [.5, .4, .1],
                    [.6, .1, .3], [.2, .2, .6], [.1, .8, .1], [.4, .4, .2], [.3, .5, .2]])


def test_binary_auc_equals_sklearn():
    result = auc(Y_BINARY, P_BINARY, ["ok", "ill"])
    assert result["auc"] == pytest.approx(roc_auc_score(Y_BINARY, P_BINARY), abs=1e-12)
    two_columns = auc(Y_BINARY, np.c_[1 - P_BINARY, P_BINARY], ["ok", "ill"])
    assert two_columns["auc"] == pytest.approx(result["auc"], abs=1e-12)
    assert two_columns["per_class"]["ok"] == pytest.approx(result["auc"], abs=1e-12)


def test_multiclass_macro_ovr_and_per_class_equal_sklearn():
    result = auc(Y_MULTI, P_MULTI, ["a", "b", "c"])
    assert result["auc"] == pytest.approx(roc_auc_score(Y_MULTI, P_MULTI, multi_class="ovr", average="macro"),
                                          abs=1e-12)
    for k, name in enumerate("abc"):
        assert result["per_class"][name] == pytest.approx(roc_auc_score(Y_MULTI == k, P_MULTI[:, k]), abs=1e-12)


def test_multilabel_auc_equals_sklearn_and_absent_class_is_nan():
    labels = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]])
    scores = np.array([[.9, .2], [.3, .7], [.6, .8], [.2, .4], [.4, .3], [.5, .6]])
    assert auc(labels, scores, ["effusion", "nodule"])["auc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert np.isnan(auc(np.zeros(4, int), np.array([.1, .2, .3, .4]), ["ok", "ill"])["auc"])


def test_resampled_auc_equals_sklearn_with_the_same_weights():
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 80), np.round(rng.random(80), 1)  # many ties
    weights = rng.integers(0, 4, 80).astype(float)
    assert _weighted_auc(y, p)(weights) == pytest.approx(roc_auc_score(y, p, sample_weight=weights), abs=1e-12)
    y3, p3 = rng.integers(0, 3, 90), rng.dirichlet(np.ones(3), 90)
    assert _weighted_auc(y3, p3)(np.ones(90)) == pytest.approx(roc_auc_score(y3, p3, multi_class="ovr"), abs=1e-12)


def test_cluster_weights_resample_whole_patients():
    groups = np.array(["a", "a", "a", "b", "c", "c"])
    for w in cluster_weights(groups, 6, n_boot=50, seed=1):
        assert w[0] == w[1] == w[2] and w[4] == w[5]
        assert w[0] + w[3] + w[4] == 3  # three clusters drawn per resample


def test_bootstrap_ci_widens_when_images_of_a_patient_are_duplicates():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 60)
    p = np.clip(0.5 + 0.25 * (y - 0.5) + rng.normal(0, 0.25, 60), 0, 1)
    lo, hi = bootstrap_auc_ci(y, p, groups=np.arange(60), n_boot=500, seed=0)
    assert lo < roc_auc_score(y, p) < hi
    # five identical images per patient: resampling images would pretend 300 independent cases
    y5, p5, patients = np.repeat(y, 5), np.repeat(p, 5), np.repeat(np.arange(60), 5)
    lo_img, hi_img = bootstrap_auc_ci(y5, p5, groups=None, n_boot=500, seed=0)
    lo_pat, hi_pat = bootstrap_auc_ci(y5, p5, groups=patients, n_boot=500, seed=0)
    assert hi_pat - lo_pat == pytest.approx(hi - lo, rel=0.25)
    assert hi_img - lo_img < 0.7 * (hi_pat - lo_pat)


def test_paired_bootstrap_difference_of_identical_scores_is_zero_and_of_better_scores_positive():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 100)
    good = y + rng.normal(0, 0.5, 100)
    poor = y + rng.normal(0, 2.0, 100)
    assert paired_bootstrap_diff(y, good, good, None, n_boot=200) == (0.0, 0.0, 0.0)
    diff, lo, hi = paired_bootstrap_diff(y, good, poor, np.arange(100), n_boot=500)
    assert diff == pytest.approx(roc_auc_score(y, good) - roc_auc_score(y, poor))
    assert 0 < lo < diff < hi


def _pred(rows: list[tuple[str, str, str, float]], classes=("ok", "ill")) -> pd.DataFrame:
    """(case_id, patient_id, label, p_ill) rows of a binary predictions table, all in fold 0."""
    df = pd.DataFrame(rows, columns=["case_id", "patient_id", "label", "p_ill"])
    df["fold"] = 0
    df["y_true"] = df["label"].map({c: i for i, c in enumerate(classes)})
    df["p_ok"] = 1 - df["p_ill"]
    return df[["case_id", "patient_id", "fold", "label", "y_true", "p_ok", "p_ill"]]


HAND = _pred([("a1", "A", "ill", 0.2), ("a2", "A", "ill", 0.6), ("a3", "A", "ill", 0.5),
              ("b1", "B", "ok", 0.1), ("b2", "B", "ok", 0.3),
              ("c1", "C", "ok", 0.4)])


@pytest.mark.parametrize("how, expected", [
    ("mean", {"A": (0.2 + 0.6 + 0.5) / 3, "B": 0.2, "C": 0.4}),
    ("max", {"A": 0.6, "B": 0.3, "C": 0.4}),
    ("noisy_or", {"A": 1 - 0.8 * 0.4 * 0.5, "B": 1 - 0.9 * 0.7, "C": 0.4}),
])
def test_aggregate_binary_by_hand(how, expected):
    patients = aggregate(HAND, how=how).set_index("patient_id")
    assert patients["p_ill"].to_dict() == pytest.approx(expected, abs=1e-12)
    assert (patients["p_ok"] + patients["p_ill"]).to_numpy() == pytest.approx(1.0)
    assert patients["n_images"].to_dict() == {"A": 3, "B": 2, "C": 1}
    assert patients["label"].to_dict() == {"A": "ill", "B": "ok", "C": "ok"}
    assert patients["y_true"].to_dict() == {"A": 1, "B": 0, "C": 0}


def test_aggregate_per_study_keeps_the_patient():
    pred = HAND.assign(study=["s1", "s1", "s2", "s3", "s3", "s4"])
    studies = aggregate(pred, how="mean", level="study")
    assert studies[["patient_id", "study", "n_images"]].values.tolist() == [["A", "s1", 2], ["A", "s2", 1],
                                                                            ["B", "s3", 2], ["C", "s4", 1]]
    assert studies["p_ill"].tolist() == pytest.approx([0.4, 0.5, 0.2, 0.4])
    with pytest.raises(ValueError, match="level='study' needs a 'study' column"):
        aggregate(HAND, level="study")


def test_aggregate_positive_class_choice_changes_max_and_noisy_or():
    as_ok = aggregate(HAND, how="max", positive="ok").set_index("patient_id")
    assert as_ok.loc["A", "p_ok"] == pytest.approx(0.8) and as_ok.loc["A", "p_ill"] == pytest.approx(0.2)


def test_aggregate_multiclass_renormalises_and_refuses_noisy_or():
    pred = pd.DataFrame({"case_id": ["x1", "x2"], "patient_id": ["X", "X"], "fold": [1, 1], "label": ["b", "b"],
                         "y_true": [1, 1], "p_a": [0.6, 0.1], "p_b": [0.3, 0.7], "p_c": [0.1, 0.2]})
    maxed = aggregate(pred, how="max").iloc[0]
    assert [maxed["p_a"], maxed["p_b"], maxed["p_c"]] == pytest.approx([0.6 / 1.5, 0.7 / 1.5, 0.2 / 1.5])
    meaned = aggregate(pred, how="mean").iloc[0]
    assert [meaned["p_a"], meaned["p_b"], meaned["p_c"]] == pytest.approx([0.35, 0.5, 0.15])
    with pytest.raises(ValueError, match="noisy_or combines independent binary findings"):
        aggregate(pred, how="noisy_or")


def test_aggregate_refuses_a_patient_predicted_in_two_folds():
    pred = HAND.copy()
    pred.loc[1, "fold"] = 2
    with pytest.raises(LeakageError, match="patient_id 'A' has predictions from 2 different folds"):
        aggregate(pred)


@pytest.mark.parametrize("column, value, message", [
    ("p_ill", 1.2, r"row 2 \(case 'a3'\) has probabilities p_ok, p_ill that are not in \[0, 1\]"),
    ("y_true", 0, r"row 2 \(case 'a3'\) has a y_true that is not the index of its label in \['ok', 'ill'\]"),
])
def test_bad_prediction_rows_are_named(column, value, message):
    pred = HAND.copy()
    pred.loc[2, column] = value
    with pytest.raises(ValueError, match=message):
        prediction_classes(pred)


def test_operating_points_and_confusion_by_hand():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.8, 0.9])
    assert youden_point(y, p) == {"threshold": 0.7, "sensitivity": 0.75, "specificity": 1.0}
    assert point_at_specificity(y, p, 0.75) == {"threshold": 0.4, "sensitivity": 1.0, "specificity": 0.75,
                                                "target_specificity": 0.75}
    assert confusion_at(y, p, 0.4).tolist() == [[3, 1], [0, 4]]
    assert point_at_specificity(np.array([0, 1]), np.array([0.9, 0.1]), 0.9)["sensitivity"] == 0.0


def test_brier_and_reliability():
    y = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    assert brier(y, probs) == pytest.approx((0.01 + 0.16 + 0.09 + 0.04) / 4)
    three = np.array([[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.0, 0.0, 1.0]])
    assert brier(np.array([0, 1, 2]), three) == pytest.approx((0.06 + 0.24 + 0.0) / 3)
    curve = reliability(y, probs[:, 1], n_bins=2)
    assert curve == {"n_bins": 2, "mean_predicted": pytest.approx([0.25, 0.75]), "fraction_positive": [0.0, 1.0]}
