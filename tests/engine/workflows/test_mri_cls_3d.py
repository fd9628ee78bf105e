import json
from pathlib import Path

import pandas as pd
import pytest

import medtl
from medtl.cli.main import main
from medtl.synth import make_mri

CONFIG = Path(medtl.__file__).parent / "configs" / "mri_cls_3d.yaml"


def test_3d_classification_config_cross_validates_synthetic_mri(tmp_path):
    data = make_mri(tmp_path / "data", patients=8, shape=(16, 16, 12), seed=2)
    run = tmp_path / "run"
    # a fresh cache holds no medtl:synth-mri-unet18_3d: the config says so and trains from scratch
    with pytest.warns(UserWarning, match=r"medtl:synth-mri-unet18_3d.*model.weights_fallback=none"):
        code = main(["cv", str(CONFIG), "--out", str(run), "--set", f"data.root={data}",
                     "--set", "transforms.input_size=[16,16,16]", "--set", "train.epochs=1",
                     "--set", "train.batch_size=8", "--set", "cv.folds=2", "--set", "explain.cases=1"])
    assert code == 0
    for name in ("config.yaml", "cases.csv", "splits.json", "oof_predictions.csv", "cv_summary.json",
                 "fold_0/model.safetensors", "fold_1/model.safetensors", "reports/patients.csv"):
        assert (run / name).is_file(), name
    oof = pd.read_csv(run / "oof_predictions.csv")
    cases = pd.read_csv(run / "cases.csv")
    assert sorted(oof["case_id"]) == sorted(cases["case_id"])
    assert ((oof["p_lesion"] + oof["p_normal"]).round(5) == 1).all()
    summary = json.loads((run / "cv_summary.json").read_text())
    assert summary["positive"] == "lesion" and summary["counts"]["patients"] == 8
    assert 0.0 <= summary["pooled"]["patient"]["auc"] <= 1.0
    explained = json.loads((run / "explain" / "summary.json").read_text())
    assert explained["method"] == "voxel_map"  # a lesion-map classifier is explained by its own voxel map
