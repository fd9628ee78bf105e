"""A `medtl cv` killed by a real signal mid-training resumes with --resume and ends with the weights of an
uninterrupted run with the same seed."""
import subprocess
import sys

import pytest
from kill_resume import assert_same_fold_weights, command_env, kill_during_fold_0

from medtl.cli.main import main
from medtl.synth import make_xray

pytestmark = pytest.mark.slow
EPOCHS = 4


def cv_args(data, out, *extra):
    sets = [f"data.root={data}", "data.layout=csv", "model.weights=none", "transforms.input_size=[48, 48]",
            f"train.epochs={EPOCHS}", "train.batch_size=4", "cv.folds=2", "explain.cases=1"]
    return ["cv", "configs/demo_xray.yaml", "--out", str(out), *[a for s in sets for a in ("--set", s)], *extra]


def test_killed_run_resumes_to_the_same_weights(tmp_path, capsys):
    data = make_xray(tmp_path / "data", patients=10, size=48, seed=2)
    assert main(cv_args(data, tmp_path / "straight")) == 0

    env = command_env()
    kill_during_fold_0([sys.executable, "-m", "medtl", *cv_args(data, tmp_path / "killed")], tmp_path / "killed", env,
                       EPOCHS)

    capsys.readouterr()
    assert main(cv_args(data, tmp_path / "killed")) == 1
    assert "--overwrite" in capsys.readouterr().err  # never overwritten silently
    subprocess.run([sys.executable, "-m", "medtl", *cv_args(data, tmp_path / "killed", "--resume")], check=True,
                   env=env, capture_output=True)
    assert_same_fold_weights(tmp_path / "straight", tmp_path / "killed")
