import numpy as np
import pandas as pd
import pytest
import torch

from medtl.config import ExperimentConfig
from medtl.engine.training.loop import train
from medtl.engine.training.objective import Objective
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.engine.tasks.seg_summary import seg_cv_summary
from medtl.engine.tasks.segmentation import SegSettings, predict_lesion_probabilities, segmentation_loss
from medtl.evaluate import segmentation_metrics
from medtl.models import create_model


def bright_squares(n, seed):
    """32x32 noise images whose lesion is an 8x8 bright square at a random place."""
    rng = np.random.default_rng(seed)
    items = []
    for _ in range(n):
        image = rng.normal(0.0, 0.2, (1, 32, 32)).astype(np.float32)
        mask = np.zeros((1, 32, 32), np.float32)
        r, c = rng.integers(6, 26, 2)
        mask[0, r - 4:r + 4, c - 4:c + 4] = 1.0
        image[mask > 0] += 2.0
        items.append({"image": torch.from_numpy(image), "mask": torch.from_numpy(mask)})
    return items


def test_unet_learns_a_bright_lesion_with_dice_ce_and_sliding_window():
    torch.manual_seed(0)
    model = create_model("resnet18", task="segmentation", num_classes=2)
    history = train(model, bright_squares(24, seed=0), TrainSettings(epochs=3, batch_size=8, lr=3e-3),
                    head=model.spec.classifier,
                    objective=Objective(criterion=segmentation_loss("dice_ce"), target_key="mask"), progress=False)
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    held_out = bright_squares(6, seed=1)
    probabilities = predict_lesion_probabilities(model, held_out, TrainSettings(batch_size=6), (16, 16), overlap=0.5)
    assert all(0.0 <= p.min() and p.max() <= 1.0 for p in probabilities)
    masks = [(p > 0.5).astype(np.uint8) for p in probabilities]
    assert [m.shape for m in masks] == [(32, 32)] * 6 and {int(v) for m in masks for v in np.unique(m)} <= {0, 1}
    scores = segmentation_metrics(masks, [item["mask"][0].numpy() for item in held_out])
    assert scores["dice"].mean() > 0.5


def bright_cubes(n, seed):
    """16^3 noise volumes whose lesion is a 4^3 bright cube at a random place."""
    rng = np.random.default_rng(seed)
    items = []
    for _ in range(n):
        image = rng.normal(0.0, 0.2, (1, 16, 16, 16)).astype(np.float32)
        mask = np.zeros((1, 16, 16, 16), np.float32)
        x, y, z = rng.integers(2, 10, 3)
        mask[0, x:x + 4, y:y + 4, z:z + 4] = 1.0
        image[mask > 0] += 2.0
        items.append({"image": torch.from_numpy(image), "mask": torch.from_numpy(mask)})
    return items


def test_a_two_layer_3d_unet_learns_a_small_bright_cube():
    torch.manual_seed(0)
    model = create_model("resnet10_3d", task="segmentation", num_classes=2, encoder_depth=2)
    train(model, bright_cubes(16, seed=0), TrainSettings(epochs=6, batch_size=4, lr=3e-3), head=model.spec.classifier,
          objective=Objective(criterion=segmentation_loss("dice_ce"), target_key="mask"), progress=False)
    held_out = bright_cubes(4, seed=1)
    masks = [p > 0.5 for p in predict_lesion_probabilities(model, held_out, TrainSettings(batch_size=4), (16, 16, 16))]
    scores = segmentation_metrics(masks, [item["mask"][0].numpy() for item in held_out])
    assert scores["dice"].mean() > 0.5


def test_dice_counts_the_lesion_alone():
    mask = torch.zeros(1, 1, 8, 8, 8)
    mask[..., 2:4, 2:4, 2:4] = 1.0
    background_only = torch.stack([torch.full((8, 8, 8), 9.0), torch.full((8, 8, 8), -9.0)])[None]
    assert segmentation_loss("dice")(background_only, mask).item() == pytest.approx(1.0, abs=1e-3)


def test_criterion_and_class_weights_are_exclusive():
    with pytest.raises(ValueError, match="not both"):
        Objective(loss_weights=torch.ones(2), criterion=segmentation_loss("dice"), target_key="mask")


def test_unknown_loss_and_oversized_patch_are_refused():
    with pytest.raises(ValueError, match=r"seg.loss must be one of .*'focal'"):
        segmentation_loss("focal")
    cfg = ExperimentConfig.from_dict({"seg": {"patch_size": [32, 8, 8]}})
    with pytest.raises(ValueError, match=r"seg.patch_size \[32, 8, 8\].*\[16, 16, 16\]"):
        SegSettings.from_config(cfg, input_size=(16, 16, 16))
    assert SegSettings.from_config(ExperimentConfig.from_dict({}), (16, 16, 16)).window((16, 16, 16)) == (16, 16, 16)


def test_summary_averages_each_patient_first_and_skips_cases_without_lesion():
    oof = pd.DataFrame({"case_id": ["a1", "a2", "b1", "c1"], "patient_id": ["a", "a", "b", "c"], "fold": [0, 0, 1, 1],
                        "dice": [1.0, 0.5, 0.0, np.nan], "hd95": [1.0, 3.0, 10.0, np.nan],
                        "true_voxels": [5, 5, 5, 0]})
    summary = seg_cv_summary(oof, n_boot=200)
    assert summary["counts"] == {"cases": 4, "cases_with_lesion": 3, "patients": 3, "folds": 2}
    assert summary["patient"]["dice"]["mean"] == pytest.approx(0.375)   # mean of a: 0.75 and b: 0.0
    assert summary["case"]["dice"]["mean"] == pytest.approx(0.5)
    assert summary["patient"]["dice"]["n"] == 2 and summary["folds"][1]["dice"] == 0.0
    low, high = summary["patient"]["hd95"]["ci"]
    assert low <= summary["patient"]["hd95"]["mean"] <= high
