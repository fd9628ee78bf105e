"""A `medtl cv` killed by a real signal mid-training resumes with --resume and ends with the weights of an
uninterrupted run with the same seed."""
import os
import subprocess
import sys

import pytest
from kill_resume import assert_same_fold_weights, kill_during_fold_0

from medtl.synth import make_xray

pytestmark = pytest.mark.slow
EPOCHS = 4


def cv_command(data, out, *extra):
    sets = [f"data.root={data}", "data.layout=csv", "model.weights=none", "transforms.input_size=[48, 48]",
            f"train.epochs={EPOCHS}", "train.batch_size=4", "cv.folds=2", "explain.cases=1"]
    return [sys.executable, "-m", "medtl", "cv", "configs/demo_xray.yaml", "--out", str(out),
            *[a for s in sets for a in ("--set", s)], *extra]


def test_killed_run_resumes_to_the_same_weights(tmp_path):
    data = make_xray(tmp_path / "data", patients=10, size=48, seed=2)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run(cv_command(data, tmp_path / "straight"), check=True, env=env, capture_output=True)

    kill_during_fold_0(cv_command(data, tmp_path / "killed"), tmp_path / "killed", env, EPOCHS)

    refused = subprocess.run(cv_command(data, tmp_path / "killed"), env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "--overwrite" in refused.stderr  # never overwritten silently
    subprocess.run(cv_command(data, tmp_path / "killed", "--resume"), check=True, env=env, capture_output=True)
    assert_same_fold_weights(tmp_path / "straight", tmp_path / "killed")
