"""cv_summary.json content and table, and `medtl compare` on two hand-made run folders."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from medtl.cli.main import main
from medtl.evaluate import (Splits, aggregate, compare_runs, delong_auc_ci, delong_paired_test, format_summary,
                            summarize_cv)

CLASSES = ["normal", "pneumonia"]


def _predictions(separation: float, seed: int = 0, n_patients: int = 40, classes: list[str] = CLASSES,
                 folds: int = 4) -> pd.DataFrame:
    """Out-of-fold predictions: 1-3 images per patient, patient p in fold p % folds, images of a patient share
    a patient effect; larger `separation` gives a better model. Patient ids and truth do not depend on `seed`."""
    truth_rng, rng = np.random.default_rng(100), np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        y = int(truth_rng.integers(len(classes))) if p >= len(classes) else p
        effect = rng.normal(0, 1)
        for i in range(1 + p % 3):
            logits = rng.normal(0, 1, len(classes)) + 0.5 * effect
            logits[y] += separation
            probs = np.exp(logits) / np.exp(logits).sum()
            rows.append({"case_id": f"P{p:02d}-{i}", "patient_id": f"P{p:02d}", "fold": p % folds,
                         "label": classes[y], "y_true": y, **{f"p_{c}": float(v) for c, v in zip(classes, probs)}})
    return pd.DataFrame(rows)


def _run(folder, pred: pd.DataFrame, folds: int = 4):
    folder.mkdir()
    pred.to_csv(folder / "oof_predictions.csv", index=False)
    held_out = [sorted(pred.loc[pred["fold"] == k, "patient_id"].unique()) for k in range(folds)]
    Splits(folds=held_out, seed=0).to_json(folder / "splits.json")
    return folder


def test_summary_schema_and_pooled_patient_auc_equals_sklearn_on_the_aggregated_table():
    pred = _predictions(separation=1.5)
    summary = summarize_cv(pred, CLASSES, positive="pneumonia", aggregate_how="max", n_boot=300)
    assert set(summary) == {"schema", "task", "classes", "positive", "aggregate", "ci_level", "n_boot", "seed",
                            "counts", "folds", "auc_over_folds", "pooled", "brier", "operating_points", "confusion",
                            "reliability", "roc"}
    assert summary["schema"] == "medtl.cv_summary/1" and summary["task"] == "binary"
    patients = aggregate(pred, how="max", positive="pneumonia")
    pooled = summary["pooled"]["patient"]
    assert pooled["auc"] == pytest.approx(roc_auc_score(patients["label"] == "pneumonia", patients["p_pneumonia"]))
    assert pooled["n"] == 40
    assert pooled["delong_ci"] == pytest.approx(list(delong_auc_ci(patients["y_true"], patients["p_pneumonia"])[2:]))
    assert pooled["bootstrap_ci"][0] < pooled["auc"] < pooled["bootstrap_ci"][1]
    assert summary["pooled"]["image"]["auc"] == pytest.approx(roc_auc_score(pred["y_true"], pred["p_pneumonia"]))
    assert summary["pooled"]["image"]["n"] == len(pred)
    fold1 = patients[patients["fold"] == 1]
    assert summary["folds"][1]["auc_patient"] == pytest.approx(roc_auc_score(fold1["y_true"], fold1["p_pneumonia"]))
    per_fold = [f["auc_patient"] for f in summary["folds"]]
    assert summary["auc_over_folds"]["patient"] == pytest.approx({"mean": np.mean(per_fold),
                                                                  "sd": np.std(per_fold, ddof=1), "n_folds": 4})
    counts = summary["counts"]
    assert (counts["cases"], counts["patients"], counts["folds"]) == (len(pred), 40, 4)
    assert sum(counts["patients_per_class"].values()) == 40
    matrix = np.array(summary["confusion"]["matrix"])
    assert matrix.sum() == 40 and matrix[1].sum() == counts["patients_per_class"]["pneumonia"]
    assert summary["operating_points"]["at_specificity"]["specificity"] >= 0.9
    json.dumps(summary, allow_nan=False)


def test_fold_without_a_class_gets_null_auc_and_the_table_says_so():
    pred = _predictions(separation=1.5)
    only_normal = pred["fold"].eq(3) & pred["label"].eq("pneumonia")
    pred = pred[~only_normal]
    summary = summarize_cv(pred, CLASSES, n_boot=50)
    assert summary["folds"][3]["auc_patient"] is None
    assert summary["auc_over_folds"]["patient"]["n_folds"] == 3
    table = format_summary(summary)
    fold_rows = [line.split() for line in table.splitlines() if line.strip().startswith("3 ")]
    assert fold_rows[0][-2:] == ["n/a", "n/a"]
    json.dumps(summary, allow_nan=False)


def test_format_summary_shows_fold_and_pooled_numbers():
    summary = summarize_cv(_predictions(separation=1.0), CLASSES, n_boot=100)
    table = format_summary(summary)
    pooled = summary["pooled"]["patient"]
    assert f"{pooled['auc']:.3f}" in table
    assert f"[{pooled['delong_ci'][0]:.3f}, {pooled['delong_ci'][1]:.3f}]" in table
    assert f"{summary['folds'][2]['auc_image']:.3f}" in table
    assert "specificity >= 0.90" in table and "Youden" in table


def test_multiclass_summary_uses_macro_auc_and_argmax_confusion():
    classes = ["covid", "normal", "viral"]
    pred = _predictions(separation=1.5, classes=classes, n_patients=45, folds=3)
    summary = summarize_cv(pred, classes, n_boot=100)
    patients = aggregate(pred)
    probs = patients[[f"p_{c}" for c in classes]].to_numpy()
    assert summary["pooled"]["patient"]["auc"] == pytest.approx(roc_auc_score(patients["y_true"], probs,
                                                                              multi_class="ovr"))
    assert summary["pooled"]["patient"]["delong_ci"] is None
    assert set(summary["pooled"]["patient"]["per_class"]) == set(classes)
    assert summary["confusion"]["rule"] == "argmax" and np.array(summary["confusion"]["matrix"]).sum() == 45
    with pytest.raises(ValueError, match="positive applies to binary problems"):
        summarize_cv(pred, classes, positive="covid")


def test_compare_cli_prints_both_aucs_difference_and_delong_p(tmp_path, capsys):
    run_a = _run(tmp_path / "pretrained", _predictions(separation=2.0, seed=1))
    run_b = _run(tmp_path / "scratch", _predictions(separation=0.5, seed=2))
    assert main(["compare", str(run_a), str(run_b), "--n-boot", "300"]) == 0
    printed = capsys.readouterr().out
    result = json.loads((run_a / "compare_scratch.json").read_text())

    patients_a, patients_b = aggregate(pd.read_csv(run_a / "oof_predictions.csv")), aggregate(
        pd.read_csv(run_b / "oof_predictions.csv"))
    expected = delong_paired_test(patients_a["y_true"], patients_a["p_pneumonia"], patients_b["p_pneumonia"])
    assert result["a"]["auc"] == pytest.approx(expected["auc_a"]) and result["b"]["auc"] == pytest.approx(
        expected["auc_b"])
    assert result["difference"]["p_value"] == pytest.approx(expected["p_value"])
    lo, hi = result["difference"]["bootstrap_ci"]
    assert lo < result["difference"]["auc"] < hi
    for number in (result["a"]["auc"], result["b"]["auc"]):
        assert f"{number:.3f}" in printed
    assert f"{result['difference']['auc']:+.3f}" in printed and f"[{lo:.3f}, {hi:.3f}]" in printed
    assert f"{result['difference']['p_value']:.4f}" in printed


def test_compare_refuses_runs_with_different_splits(tmp_path, capsys):
    run_a = _run(tmp_path / "a", _predictions(separation=1.0))
    run_b = _run(tmp_path / "b", _predictions(separation=1.0, seed=3))
    payload = json.loads((run_b / "splits.json").read_text())
    payload["folds"][0], payload["folds"][1] = payload["folds"][0][1:], payload["folds"][1] + payload["folds"][0][:1]
    (run_b / "splits.json").write_text(json.dumps(payload))
    out = tmp_path / "cmp.json"
    assert main(["compare", str(run_a), str(run_b), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "different patient folds" in err and "'P00'" in err
    assert not out.exists()


def test_compare_refuses_runs_over_different_cases(tmp_path):
    run_a = _run(tmp_path / "a", _predictions(separation=1.0))
    pred_b = _predictions(separation=1.0, seed=3)
    run_b = _run(tmp_path / "b", pred_b[pred_b["case_id"] != "P38-2"])
    with pytest.raises(ValueError, match=r"case 'P38-2' is predicted only in .*a \(cases not in both runs: 1\)"):
        compare_runs(run_a, run_b, n_boot=10)
