"""`medtl predict` with a `medtl cv` run (the mean of its fold models) and the command's refusals."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from medtl.cli.main import main
from medtl.config import ExperimentConfig
from medtl.data.layouts.layout_unlabelled import scan_new_data
from medtl.engine.workflows.cv import run_cv
from medtl.engine.pipeline.datasets import case_items
from medtl.engine.training.model_files import load_fold_model
from medtl.engine.training.setup import Pipelines
from medtl.synth import make_xray


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("predict_cv")
    data = make_xray(root / "train", patients=6, size=32, seed=2, fmt="png")
    cfg = ExperimentConfig.from_dict({
        "data": {"root": str(data / "images"), "layout": "class-folders"},
        "model": {"backbone": "resnet18", "weights": "none"}, "transforms": {"input_size": [32, 32]},
        "train": {"epochs": 1, "batch_size": 8}, "cv": {"folds": 2},
        "explain": {"cases": 1, "target_layer": "layer3"},
    })
    run_cv(cfg, root / "run", progress=False)
    new = root / "new"
    for path in (make_xray(root / "new_src", patients=3, size=32, seed=7, fmt="png") / "images").rglob("*.png"):
        (new / path.parent.name).mkdir(parents=True, exist_ok=True)  # new/<patient>/<image>.png, no label folders
        shutil.copy(path, new / path.parent.name / path.name)
    assert main(["predict", str(root / "run"), str(new), "--out", str(root / "out"), "--cases", "1"]) == 0
    return {"root": root, "run": root / "run", "new": new, "out": root / "out", "cfg": cfg}


def direct_probabilities(cfg: ExperimentConfig, run, fold: int, table) -> pd.Series:
    """p_nodule of every case from fold `fold`'s model, on the eval transforms, without medtl's loaders."""
    pipes = Pipelines.from_config(cfg)
    batch = torch.stack([pipes.eval(pipes.preprocess(item))["image"] for item in case_items(table, [], False)])
    with torch.no_grad():
        proba = torch.softmax(load_fold_model(cfg, run, fold, 2)(batch), dim=1)[:, 1].numpy()
    return pd.Series(proba, index=table.df["case_id"])


def test_cv_run_predicts_the_mean_of_its_fold_models(cv_run):
    pred = pd.read_csv(cv_run["out"] / "predictions.csv", dtype={"case_id": str}).set_index("case_id")
    table = scan_new_data(cv_run["new"])
    assert table.df["patient_id"].nunique() == 3
    folds = [direct_probabilities(cv_run["cfg"], cv_run["run"], k, table) for k in range(2)]
    mean = (folds[0] + folds[1]) / 2
    np.testing.assert_allclose(pred.loc[mean.index, "p_nodule"], mean, atol=1e-5)
    assert not np.allclose(folds[0], folds[1], atol=1e-4)  # the two fold models differ, so the mean is a test


def test_cv_run_calls_patients_at_its_own_threshold_and_says_it_is_an_ensemble(cv_run):
    threshold = json.loads((cv_run["run"] / "cv_summary.json").read_text())["confusion"]["threshold"]
    summary = json.loads((cv_run["out"] / "predict_summary.json").read_text())
    assert summary["ensemble"] is True and len(summary["weights"]) == 2 and summary["threshold"] == threshold
    patients = pd.read_csv(cv_run["out"] / "reports" / "patients.csv")
    assert (patients["prediction"] == np.where(patients["probability"] >= threshold, "nodule", "normal")).all()
    index = (cv_run["out"] / "reports" / "index.html").read_text()
    assert "ensemble of the 2 fold models" in index and "saliency maps averaged over its models" in index


def test_a_folder_that_is_no_model_is_refused_with_what_was_expected(cv_run, tmp_path, capsys):
    assert main(["predict", str(tmp_path), str(cv_run["new"])]) == 1
    err = capsys.readouterr().err
    assert "expected a `medtl train` run folder" in err and "fold_<k>/model.safetensors" in err
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert main(["predict", str(tmp_path / "model.safetensors"), str(cv_run["new"])]) == 1
    assert "model.json is missing beside it" in capsys.readouterr().err
    assert not any(tmp_path.glob("predict-*"))


def test_output_is_not_overwritten_without_the_flag(cv_run, capsys):
    before = (cv_run["out"] / "predictions.csv").read_text()
    assert main(["predict", str(cv_run["run"]), str(cv_run["new"]), "--out", str(cv_run["out"])]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert (cv_run["out"] / "predictions.csv").read_text() == before


def test_data_without_images_is_refused(cv_run, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("no images here")
    assert main(["predict", str(cv_run["run"]), str(tmp_path), "--out", str(cv_run["root"] / "none")]) == 1
    assert "no readable image to predict" in capsys.readouterr().err
    assert not (cv_run["root"] / "none").exists()
