"""`medtl export`: a cv run's fold ensemble as one ONNX / TorchScript graph whose outputs equal `medtl predict`'s
probabilities on the same preprocessed input, its model.json, and a MONAI bundle that `monai.bundle run` runs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
import torch
from PIL import Image

import medtl
import timm_toys  # noqa: F401  (registers timm:medtl_toy_vit)
from medtl.export import FoldEnsemble
from medtl.models import create_model
from medtl.cli.main import main
from medtl.config import ExperimentConfig
from medtl.data.layouts.layout_unlabelled import scan_new_data
from medtl.engine.workflows.cv import run_cv
from medtl.engine.pipeline.datasets import case_items
from medtl.engine.training.setup import Pipelines
from medtl.synth import make_xray

pytestmark = pytest.mark.slow
CONFIG_3D = Path(medtl.__file__).parent / "configs" / "mri_cls_3d.yaml"


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    data = make_xray(root / "train", patients=6, size=32, seed=2, fmt="png")
    cfg = ExperimentConfig.from_dict({
        "data": {"root": str(data / "images"), "layout": "class-folders"},
        "model": {"backbone": "resnet18", "weights": "none"}, "transforms": {"input_size": [32, 32]},
        "train": {"epochs": 1, "batch_size": 8}, "cv": {"folds": 2}, "explain": {"cases": 1, "target_layer": "layer3"},
    })
    run_cv(cfg, root / "run", progress=False)
    new = make_xray(root / "new", patients=3, size=32, seed=7, fmt="png") / "images"
    assert main(["predict", str(root / "run"), str(new), "--out", str(root / "pred"), "--cases", "0"]) == 0
    table = scan_new_data(new)
    pipes = Pipelines.from_config(cfg)
    batch = torch.stack([pipes.eval(pipes.preprocess(item))["image"] for item in case_items(table, [], False)])
    pred = pd.read_csv(root / "pred" / "predictions.csv", dtype={"case_id": str}).set_index("case_id")
    expected = pred.loc[list(table.df["case_id"]), ["p_normal", "p_nodule"]].to_numpy()
    return {"root": root, "run": root / "run", "batch": batch, "expected": expected, "table": table}


def test_onnx_runtime_equals_medtl_predict_on_the_fold_ensemble(cv_run):
    assert main(["export", str(cv_run["run"]), "--format", "onnx"]) == 0
    folder = cv_run["run"] / "export-onnx"
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": cv_run["batch"].numpy()})[0]
    np.testing.assert_allclose(got, cv_run["expected"], atol=1e-4)
    info = json.loads((folder / "model.json").read_text())
    assert info["classes"] == ["normal", "nodule"] and info["models"] == 2
    assert info["input"]["shape"] == ["batch", 1, 32, 32] and info["backbone"] == "resnet18"
    assert info["weights_source"] == "none" and 0 <= info["threshold"] <= 1
    assert [s["transform"] for s in info["intensity_steps"]] == [
        "LoadImage", "ScaleIntensityRangePercentiles", "Resize", "NormalizeIntensity"]
    assert main(["export", str(cv_run["run"]), "--format", "onnx"]) == 1  # an earlier export is kept


def test_torchscript_equals_medtl_predict(cv_run, tmp_path):
    assert main(["export", str(cv_run["run"]), "--format", "torchscript", "--out", str(tmp_path)]) == 0
    model = torch.jit.load(str(tmp_path / "model.ts"))
    with torch.no_grad():
        got = model(cv_run["batch"]).numpy()
    np.testing.assert_allclose(got, cv_run["expected"], atol=1e-4)


def test_monai_bundle_runs_on_a_new_image(cv_run, tmp_path):
    bundle = tmp_path / "bundle"
    assert main(["export", str(cv_run["run"]), "--format", "bundle", "--out", str(bundle)]) == 0
    assert {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()} == {
        "configs/metadata.json", "configs/inference.json", "models/model.ts", "model.json"}
    row = cv_run["table"].df.iloc[0]
    image = tmp_path / "case.png"
    Image.open(row["image"]).save(image)
    out = tmp_path / "pred.json"
    done = subprocess.run([sys.executable, "-m", "monai.bundle", "run", "--config_file",
                    str(bundle / "configs" / "inference.json"), "--meta_file", str(bundle / "configs" / "metadata.json"),
                    "--bundle_root", str(bundle), "--image", str(image), "--output_file", str(out)],
                   capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    got = [result["probabilities"][c] for c in ("normal", "nodule")]
    np.testing.assert_allclose(got, cv_run["expected"][0], atol=1e-4)


def test_a_vit_ensemble_exports_to_onnx_with_the_same_outputs(tmp_path):
    torch.manual_seed(0)
    folds = [create_model("timm:medtl_toy_vit", in_chans=1, num_classes=3, input_size=(32, 48)) for _ in range(2)]
    ensemble = FoldEnsemble(folds).eval()
    x = torch.randn(3, 1, 32, 48)
    torch.onnx.export(ensemble, (x[:1],), str(tmp_path / "vit.onnx"), input_names=["image"],
                      dynamic_axes={"image": {0: "batch"}}, dynamo=False)
    session = ort.InferenceSession(str(tmp_path / "vit.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = torch.stack([torch.softmax(m(x), dim=1) for m in folds]).mean(0).numpy()
    np.testing.assert_allclose(session.run(None, {"image": x.numpy()})[0], expected, atol=1e-5)


def test_a_lesion_map_ensemble_exports_to_onnx_with_the_same_outputs(tmp_path):
    torch.manual_seed(0)
    folds = [create_model("resnet10_3d", head="lesion_map", encoder_depth=2) for _ in range(2)]
    with torch.no_grad():
        folds[1].fc.log_temperature.fill_(0.5)
    ensemble = FoldEnsemble(folds).eval()
    x = torch.randn(1, 1, 16, 16, 16)
    torch.onnx.export(ensemble, (x,), str(tmp_path / "map.onnx"), input_names=["image"], dynamo=False)
    session = ort.InferenceSession(str(tmp_path / "map.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = ensemble(x).numpy()
    np.testing.assert_allclose(session.run(None, {"image": x.numpy()})[0], expected, atol=1e-5)


def test_a_3d_run_exports_to_onnx_and_its_bundle_reads_a_nifti_volume(tmp_path):
    from medtl.synth import make_mri

    data = make_mri(tmp_path / "data", patients=4, shape=(16, 16, 12), seed=2)
    run = tmp_path / "run"
    assert main(["cv", str(CONFIG_3D), "--out", str(run), "--set", f"data.root={data}",
                 "--set", "transforms.input_size=[16,16,16]", "--set", "train.epochs=1", "--set", "train.batch_size=8",
                 "--set", "cv.folds=2", "--set", "explain.cases=1"]) == 0
    cfg = ExperimentConfig.from_yaml(run / "config.yaml")
    pipes = Pipelines.from_config(cfg)
    table = scan_new_data(data / "cases.csv")
    item = case_items(table, [], False)[0]
    x = pipes.eval(pipes.preprocess(item))["image"][None]
    assert main(["export", str(run), "--format", "onnx"]) == 0
    session = ort.InferenceSession(str(run / "export-onnx" / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_p = session.run(None, {"image": x.numpy()})[0][0]
    info = json.loads((run / "export-onnx" / "model.json").read_text())
    assert info["input"]["shape"] == [1, 1, 16, 16, 16]  # its shortcut padding fixes the traced batch size
    assert main(["export", str(run), "--format", "bundle", "--out", str(tmp_path / "bundle")]) == 0
    out = tmp_path / "pred.json"
    bundle = tmp_path / "bundle"
    done = subprocess.run([sys.executable, "-m", "monai.bundle", "run", "--config_file",
                           str(bundle / "configs" / "inference.json"), "--meta_file",
                           str(bundle / "configs" / "metadata.json"), "--bundle_root", str(bundle),
                           "--image", str(item["image"]), "--output_file", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(out.read_text())["probabilities"]
    np.testing.assert_allclose([got[c] for c in info["classes"]], onnx_p, atol=1e-4)
