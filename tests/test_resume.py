"""A `medtl cv` killed by a real signal mid-training resumes with --resume and ends with the weights of an
uninterrupted run with the same seed."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from medtl.engine.training.checkpoint import STATE_FILE
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

    proc = subprocess.Popen(cv_command(data, tmp_path / "killed"), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    state = tmp_path / "killed" / "fold_0" / STATE_FILE
    deadline = time.time() + 120
    while not state.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved_epoch = torch.load(state, weights_only=True)["epoch"]
    assert 1 <= saved_epoch < EPOCHS  # killed in the middle of fold 0's training
    assert not (tmp_path / "killed" / "fold_0" / "model.safetensors").exists()

    refused = subprocess.run(cv_command(data, tmp_path / "killed"), env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "--overwrite" in refused.stderr  # never overwritten silently
    subprocess.run(cv_command(data, tmp_path / "killed", "--resume"), check=True, env=env, capture_output=True)
    for fold in (0, 1):
        a = load_file(tmp_path / "straight" / f"fold_{fold}" / "model.safetensors")
        b = load_file(tmp_path / "killed" / f"fold_{fold}" / "model.safetensors")
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), f"fold {fold} weights differ after resume"
    assert (tmp_path / "killed" / "cv_summary.json").is_file()
