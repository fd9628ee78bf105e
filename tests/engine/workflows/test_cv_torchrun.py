"""`torchrun --nproc_per_node 2 -m medtl cv` with `cv.parallel: folds`: 2 gloo processes on the CPU each train
one fold, rank 0 gathers and summarises, and the out-of-fold predictions equal a one-process run's."""
import json
import os
import subprocess
import sys

import pandas as pd
import pytest
import torch

from medtl.cli.main import main
from medtl.synth import make_xray

pytestmark = pytest.mark.slow


def cv_args(data, out, parallel="folds"):
    sets = [f"data.root={data}", "data.layout=csv", "model.weights=none", "transforms.input_size=[32,32]",
            "train.epochs=2", "train.batch_size=8", "cv.folds=2", "explain.cases=1", f"cv.parallel={parallel}"]
    return ["cv", "configs/demo_xray.yaml", "--out", str(out), *[a for s in sets for a in ("--set", s)]]


def two_ranks(data, out, parallel):
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads()), "PYTHONUNBUFFERED": "1"}  # as this process
    ranks = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                            "-m", "medtl", *cv_args(data, out, parallel)], env=env, capture_output=True, text=True)
    assert ranks.returncode == 0, ranks.stderr[-3000:]


def test_two_ranks_running_one_fold_each_equal_one_process(tmp_path):
    data = make_xray(tmp_path / "data", patients=10, size=32, seed=2)
    assert main(cv_args(data, tmp_path / "one")) == 0
    two_ranks(data, tmp_path / "two", "folds")
    one = pd.read_csv(tmp_path / "one" / "oof_predictions.csv", dtype={"case_id": str, "patient_id": str})
    two = pd.read_csv(tmp_path / "two" / "oof_predictions.csv", dtype={"case_id": str, "patient_id": str})
    pd.testing.assert_frame_equal(one, two, rtol=1e-6)
    summaries = [json.loads((tmp_path / run / "cv_summary.json").read_text()) for run in ("one", "two")]
    assert summaries[0]["pooled"]["patient"]["auc"] == pytest.approx(summaries[1]["pooled"]["patient"]["auc"])
    for run in ("one", "two"):
        assert (tmp_path / run / "reports" / "index.html").is_file() and (tmp_path / run / "explain").is_dir()
        assert not list((tmp_path / run).glob("fold_*/last_*"))  # every fold's checkpoint removed once finished


def test_two_ranks_training_every_fold_data_parallel_predict_every_case_once(tmp_path):
    data = make_xray(tmp_path / "data", patients=10, size=32, seed=2)
    two_ranks(data, tmp_path / "ddp", "ddp")
    run = tmp_path / "ddp"
    oof = pd.read_csv(run / "oof_predictions.csv", dtype={"case_id": str, "patient_id": str})
    cases = pd.read_csv(run / "cases.csv", dtype=str)
    assert sorted(oof["case_id"]) == sorted(cases["case_id"])  # every case predicted once, by rank 0's gather
    splits = json.loads((run / "splits.json").read_text())
    assert sorted(oof["fold"].unique()) == [0, 1] and len(splits["folds"]) == 2
    assert oof.filter(like="p_").sum(axis=1).to_numpy() == pytest.approx(1.0, abs=1e-5)
    assert (run / "reports" / "index.html").is_file() and len(list((run / "explain").glob("*.png"))) == 1
