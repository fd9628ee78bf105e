"""`torchrun --nproc_per_node 2 -m medtl cv` with `cv.parallel: folds`: 2 gloo processes on the CPU each train
one fold, rank 0 gathers and summarises, and the out-of-fold predictions equal a one-process run's."""
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from medtl.synth import make_xray

pytestmark = pytest.mark.slow


def cv_command(data, out):
    sets = [f"data.root={data}", "data.layout=csv", "model.weights=none", "transforms.input_size=[32,32]",
            "train.epochs=2", "train.batch_size=8", "cv.folds=2", "explain.cases=1", "cv.parallel=folds"]
    return ["-m", "medtl", "cv", "configs/demo_xray.yaml", "--out", str(out), *[a for s in sets for a in ("--set", s)]]


def test_two_ranks_running_one_fold_each_equal_one_process(tmp_path):
    data = make_xray(tmp_path / "data", patients=10, size=32, seed=2)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    subprocess.run([sys.executable, *cv_command(data, tmp_path / "one")], check=True, env=env, capture_output=True)
    ranks = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                            *cv_command(data, tmp_path / "two")], env=env, capture_output=True, text=True)
    assert ranks.returncode == 0, ranks.stderr[-3000:]
    one = pd.read_csv(tmp_path / "one" / "oof_predictions.csv", dtype={"case_id": str, "patient_id": str})
    two = pd.read_csv(tmp_path / "two" / "oof_predictions.csv", dtype={"case_id": str, "patient_id": str})
    pd.testing.assert_frame_equal(one, two, rtol=1e-6)
    summaries = [json.loads((tmp_path / run / "cv_summary.json").read_text()) for run in ("one", "two")]
    assert summaries[0]["pooled"]["patient"]["auc"] == pytest.approx(summaries[1]["pooled"]["patient"]["auc"])
    for run in ("one", "two"):
        assert (tmp_path / run / "reports" / "index.html").is_file() and (tmp_path / run / "explain").is_dir()
        assert not list((tmp_path / run).glob("fold_*/last_*"))  # every fold's checkpoint removed once finished
