"""Inner validation wired into `run_cv`, `medtl train` and segmentation: patient-grouped held-out patients,
val_auc / val_dice per epoch, history.png and TensorBoard folders in the run."""
import numpy as np
import pandas as pd
import torch
from torch import nn

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.engine.workflows.cv import run_cv
from medtl.engine.tasks.segmentation import dice_validation
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.engine.workflows.train_run import run_train
from medtl.engine.tasks.validation import validation_rows
from medtl.synth import make_xray


def config(data, **train):
    return ExperimentConfig.from_dict({
        "data": {"root": str(data), "layout": "csv"}, "model": {"weights": "none"},
        "transforms": {"input_size": [32, 32]}, "cv": {"folds": 2}, "explain": {"cases": 1, "target_layer": "layer3"},
        "train": {"epochs": 2, "batch_size": 4, "val_fraction": 0.4, **train},
    })


def test_validation_rows_hold_out_whole_patients_of_every_class():
    df = pd.DataFrame({"case_id": [f"c{i}" for i in range(12)], "patient_id": [f"p{i // 2}" for i in range(12)],
                       "image": [f"c{i}.png" for i in range(12)], "label": ["ill" if i % 4 < 2 else "ok" for i in range(12)]})
    table = CaseTable(df)
    rows = np.arange(2, 12)
    fit, check = validation_rows(table, rows, 0.4, seed=0)
    assert sorted([*fit, *check]) == rows.tolist()
    fit_patients, check_patients = set(df["patient_id"][fit]), set(df["patient_id"][check])
    assert not fit_patients & check_patients and len(check_patients) == 2
    assert set(df["label"][check]) == {"ill", "ok"}
    fit_all, none = validation_rows(table, rows, 0.0, seed=0)
    assert fit_all.tolist() == rows.tolist() and len(none) == 0


def test_cv_validates_each_fold_and_writes_history_png_and_tensorboard(tmp_path):
    data = make_xray(tmp_path / "data", patients=10, size=32, seed=2)
    result = run_cv(config(data, tensorboard=True, patience=1, imbalance="sampler"), tmp_path / "run",
                    progress=False)
    for k in range(2):
        fold = result.run_dir / f"fold_{k}"
        history = pd.read_csv(fold / "history.csv")
        assert list(history.columns) == ["epoch", "loss", "lr", "seconds", "images_per_s", "val_auc"]
        assert history["val_auc"].between(0, 1).all() and 1 <= len(history) <= 2
        assert (fold / "history.png").read_bytes()[:4] == b"\x89PNG"
        assert list((result.run_dir / "tensorboard" / f"fold_{k}").glob("events.out.tfevents.*"))
    assert len(result.oof) == len(pd.read_csv(result.run_dir / "cases.csv"))


def test_medtl_train_validates_on_held_out_patients(tmp_path):
    data = make_xray(tmp_path / "data", patients=6, size=32, seed=4)
    clf = run_train(config(data, epochs=1, val_fraction=0.3), tmp_path / "final", progress=False)
    history = pd.read_csv(tmp_path / "final" / "history.csv")
    assert history["val_auc"].between(0, 1).all() and clf.history_["val_auc"].tolist() == history["val_auc"].tolist()


class MaskEcho(nn.Module):
    """Segments a volume by its own intensity (image > 0.5 is lesion), or calls everything background."""

    def __init__(self, perfect):
        super().__init__()
        self.perfect, self.weight = perfect, nn.Parameter(torch.zeros(1))

    def forward(self, x):
        lesion = (x > 0.5).float() if self.perfect else torch.zeros_like(x)
        return torch.cat([1 - lesion, lesion], dim=1) * 10 + self.weight


def test_validation_dice_is_one_for_a_perfect_segmenter_and_zero_for_an_empty_one():
    masks = [torch.zeros(1, 8, 8, 8) for _ in range(3)]
    masks[0][0, 2:5, 2:5, 2:5] = 1
    masks[1][0, 4:8, 1:3, 0:4] = 1  # the third case has no lesion and does not count
    data = [{"image": m.clone(), "mask": m} for m in masks]
    settings = TrainSettings(batch_size=2, device="cpu")
    assert dice_validation(data, settings, (8, 8, 8), 0.25).measure(MaskEcho(perfect=True)) == 1.0
    assert dice_validation(data, settings, (8, 8, 8), 0.25).measure(MaskEcho(perfect=False)) == 0.0
