"""Kill a `medtl cv` mid-fold, as a crash would, and compare its resumed fold models with an uninterrupted run's."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from medtl.engine.training.checkpoint import STATE_FILE


def command_env() -> dict[str, str]:
    """The environment of the `medtl cv` commands: this process's thread count, so that their weights can equal those
    of a run in this process (a float sum's order depends on the threads), and unbuffered output."""
    return {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads()), "PYTHONUNBUFFERED": "1"}


def kill_during_fold_0(command: list[str], out: Path, env: dict[str, str], epochs: int) -> None:
    """Start `command` (a `medtl cv ... --out out`), SIGKILL it once fold 0 has checkpointed an epoch, and check it
    died in the middle of fold 0's training."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out / "fold_0" / STATE_FILE
    deadline = time.time() + 120
    while not state.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved_epoch = torch.load(state, weights_only=True)["epoch"]
    assert 1 <= saved_epoch < epochs  # killed in the middle of fold 0's training
    assert not (out / "fold_0" / "model.safetensors").exists()


def assert_same_fold_weights(straight: Path, resumed: Path, folds: int = 2) -> None:
    """Every fold model of `resumed` equals `straight`'s tensor for tensor, and the resumed run finished."""
    for fold in range(folds):
        a = load_file(straight / f"fold_{fold}" / "model.safetensors")
        b = load_file(resumed / f"fold_{fold}" / "model.safetensors")
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), f"fold {fold} weights differ after resume"
    assert (resumed / "cv_summary.json").is_file()
