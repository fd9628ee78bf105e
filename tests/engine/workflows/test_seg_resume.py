"""A segmentation `medtl cv` killed by a real signal mid-fold resumes with --resume and ends with the weights of
an uninterrupted run with the same seed (every epoch reseeds the random patches and augmentation)."""
import subprocess
import sys
from pathlib import Path

import pytest
from kill_resume import assert_same_fold_weights, command_env, kill_during_fold_0

import medtl
from medtl.cli.main import main
from medtl.synth import make_mri

pytestmark = pytest.mark.slow
EPOCHS = 3
CONFIG = Path(medtl.__file__).parent / "configs" / "mri_seg_3d.yaml"


def cv_args(data, out, *extra):
    sets = [f"data.root={data}", "transforms.input_size=[16,16,16]", "seg.patch_size=[16,16,8]",
            "seg.patches_per_volume=2", f"train.epochs={EPOCHS}", "train.batch_size=4", "cv.folds=2"]
    return ["cv", str(CONFIG), "--out", str(out), *[a for s in sets for a in ("--set", s)], *extra]


def test_killed_segmentation_run_resumes_to_the_same_weights(tmp_path):
    data = make_mri(tmp_path / "data", patients=6, shape=(16, 16, 12), seed=1)
    assert main(cv_args(data, tmp_path / "straight")) == 0

    env = command_env()
    kill_during_fold_0([sys.executable, "-m", "medtl", *cv_args(data, tmp_path / "killed")], tmp_path / "killed", env,
                       EPOCHS)

    subprocess.run([sys.executable, "-m", "medtl", *cv_args(data, tmp_path / "killed", "--resume")], check=True,
                   env=env, capture_output=True)
    assert_same_fold_weights(tmp_path / "straight", tmp_path / "killed")
