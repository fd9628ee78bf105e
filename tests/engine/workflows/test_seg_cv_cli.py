import json
from pathlib import Path

import pandas as pd
import pytest

import medtl
from medtl.cli.main import main
from medtl.synth import make_mri

CONFIG = Path(medtl.__file__).parent / "configs" / "mri_seg_3d.yaml"


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("seg")
    data = make_mri(root / "data", patients=8, shape=(16, 16, 12), seed=1)
    run = root / "run"
    code = main(["cv", str(CONFIG), "--out", str(run), "--set", f"data.root={data}",
                 "--set", "transforms.input_size=[16,16,16]", "--set", "seg.patch_size=[16,16,8]",
                 "--set", "seg.patches_per_volume=1", "--set", "train.epochs=1", "--set", "train.batch_size=8",
                 "--set", "cv.folds=2"])
    return code, run


def test_segmentation_cv_writes_the_run_folder(seg_run):
    code, run = seg_run
    assert code == 0
    for name in ("config.yaml", "cases.csv", "splits.json", "oof_predictions.csv", "cv_summary.json"):
        assert (run / name).is_file(), name
    for k in range(2):
        for name in ("model.safetensors", "history.csv", "val_predictions.csv"):
            assert (run / f"fold_{k}" / name).is_file(), f"fold_{k}/{name}"


def test_every_case_is_scored_by_the_fold_that_held_its_patient_out(seg_run):
    _, run = seg_run
    oof = pd.read_csv(run / "oof_predictions.csv", dtype={"patient_id": str})
    cases = pd.read_csv(run / "cases.csv", dtype={"patient_id": str})
    assert list(oof.columns[:5]) == ["case_id", "patient_id", "fold", "dice", "hd95"]
    assert sorted(oof["case_id"]) == sorted(cases["case_id"])
    folds = json.loads((run / "splits.json").read_text())["folds"]
    held_out_in = {p: k for k, fold in enumerate(folds) for p in fold}
    assert all(held_out_in[p] == f for p, f in zip(oof["patient_id"], oof["fold"]))
    lesion = oof["true_voxels"] > 0
    assert oof.loc[lesion, "dice"].between(0, 1).all() and oof.loc[~lesion, "dice"].isna().all()


def test_summary_reports_dice_and_hd95_per_patient_and_per_case(seg_run):
    _, run = seg_run
    summary = json.loads((run / "cv_summary.json").read_text())
    oof = pd.read_csv(run / "oof_predictions.csv")
    assert summary["schema"] == "medtl.seg_summary/1" and summary["counts"]["folds"] == 2
    assert summary["counts"]["cases_with_lesion"] == int((oof["true_voxels"] > 0).sum()) > 0
    assert summary["case"]["dice"]["mean"] == pytest.approx(oof["dice"].mean())
    assert summary["patient"]["dice"]["n"] == oof.loc[oof["true_voxels"] > 0, "patient_id"].nunique()
    assert len(summary["patient"]["dice"]["ci"]) == 2
