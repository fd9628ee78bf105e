import json

import pandas as pd
import pytest

from medtl.config import ExperimentConfig
from medtl.engine.workflows.cv import run_cv
from medtl.synth import make_xray


@pytest.fixture(scope="module")
def xray_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    data = make_xray(root / "data", patients=12, size=32, seed=3)
    cfg = ExperimentConfig.from_dict({
        "name": "e2e",
        "data": {"root": str(data / "images"), "layout": "class-folders"},
        "model": {"backbone": "resnet18", "weights": "none"},
        "transforms": {"input_size": [32, 32]},
        "train": {"epochs": 1, "batch_size": 8},
        "cv": {"folds": 3},
        "explain": {"cases": 2, "target_layer": "layer3"},
    })
    return run_cv(cfg, root / "run", progress=False)


def test_run_folder_has_every_documented_file(xray_run):
    root = xray_run.run_dir
    for name in ("config.yaml", "cases.csv", "splits.json", "oof_predictions.csv", "cv_summary.json",
                 "reports/patients.csv", "reports/index.html", "explain/summary.json"):
        assert (root / name).is_file(), name
    assert len(list((root / "explain").glob("*.png"))) == 2
    for k in range(3):
        assert (root / f"fold_{k}" / "model.safetensors").is_file()


def test_written_splits_never_put_a_patient_in_two_folds(xray_run):
    folds = json.loads((xray_run.run_dir / "splits.json").read_text())["folds"]
    seen = [p for fold in folds for p in fold]
    assert len(seen) == len(set(seen)) == 12


def test_every_case_is_predicted_once_by_the_fold_that_held_its_patient_out(xray_run):
    oof = pd.read_csv(xray_run.run_dir / "oof_predictions.csv", dtype={"patient_id": str})
    cases = pd.read_csv(xray_run.run_dir / "cases.csv", dtype={"patient_id": str})
    assert sorted(oof["case_id"]) == sorted(cases["case_id"])
    folds = json.loads((xray_run.run_dir / "splits.json").read_text())["folds"]
    held_out_in = {p: k for k, fold in enumerate(folds) for p in fold}
    assert all(held_out_in[p] == f for p, f in zip(oof["patient_id"], oof["fold"]))
    assert 0.0 <= xray_run.pooled_auc <= 1.0


def test_patients_report_has_one_row_per_patient(xray_run):
    patients = pd.read_csv(xray_run.run_dir / "reports" / "patients.csv", dtype={"patient_id": str})
    assert list(patients.columns[:6]) == ["patient_id", "n_images", "probability", "prediction", "label", "fold"]
    assert len(patients) == 12 and patients["n_images"].sum() == len(xray_run.oof)


def test_too_small_a_dataset_is_refused_before_any_training(tmp_path, monkeypatch):
    import medtl.engine.tasks.fitting as fitting

    data = make_xray(tmp_path / "data", patients=4, size=32, seed=5)
    trained = []
    monkeypatch.setattr(fitting, "train", lambda *a, **k: trained.append(1))
    cfg = ExperimentConfig.from_dict({"data": {"root": str(data), "layout": "csv"}, "model": {"weights": "none"},
                                      "cv": {"folds": 5}})
    with pytest.raises(ValueError, match="patients"):
        run_cv(cfg, tmp_path / "run", progress=False)
    assert trained == [] and not list((tmp_path / "run").glob("fold_*"))
