"""The learning-rate range test: Python API on a tiny network, and `medtl lr-find` on a synthetic data set."""
import re

import numpy as np
import pandas as pd
import torch
from torch import nn

from medtl.cli.main import main
from medtl.engine.workflows.lr_find import lr_find, suggest
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.synth import make_xray
from toy_models import blobs, tiny_net





def test_sweep_is_exponential_stops_on_divergence_and_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    model = tiny_net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    noise = [{"image": item["image"], "y": int(torch.randint(2, ()))} for item in blobs()]  # nothing to learn
    result = lr_find(model, noise, TrainSettings(batch_size=8, optimizer="sgd"), head="4", start_lr=1e-4,
                     end_lr=1e4, steps=40, progress=False)
    ratios = result.lrs[1:] / result.lrs[:-1]
    assert np.allclose(ratios, ratios[0]) and ratios[0] > 1 and result.lrs[0] == 1e-4
    assert len(result.lrs) < 40 and result.smoothed[-1] > 4 * result.smoothed.min()  # stopped on divergence
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_a_learnable_task_gets_a_suggestion_inside_the_swept_range():
    torch.manual_seed(0)
    result = lr_find(tiny_net(), blobs(), TrainSettings(batch_size=8), head="4", start_lr=1e-5, end_lr=10,
                     steps=40, progress=False)
    assert result.lrs[0] < result.suggestion == result.steepest < result.lrs[-1]
    assert result.suggestion < result.lrs[np.argmin(result.smoothed)]  # before the minimum, where the loss falls
    assert result.to_frame()["lr"].is_monotonic_increasing


def test_suggestions_sit_where_the_loss_falls_fastest_and_at_a_tenth_of_the_minimum():
    lrs = np.logspace(-6, 0, 61)
    loss = 1.0 - 0.8 / (1 + np.exp(-(np.log10(lrs) + 3) * 4)) + np.where(lrs > 0.1, 5 * (lrs - 0.1), 0)
    steepest, min_loss_lr = suggest(lrs, loss)
    assert np.isclose(np.log10(steepest), -3, atol=0.11)
    assert np.isclose(min_loss_lr, lrs[np.argmin(loss)] / 10)


def test_cli_writes_a_monotone_csv_and_a_plot_and_prints_the_suggestion(tmp_path, capsys):
    data = make_xray(tmp_path / "data", patients=6, size=32, seed=1)
    code = main(["lr-find", "configs/demo_xray.yaml", "--out", str(tmp_path / "lr"), "--steps", "6",
                 "--start-lr", "1e-5", "--end-lr", "1", "--set", f"data.root={data}", "--set", "model.weights=none",
                 "--set", "transforms.input_size=[32, 32]", "--set", "train.batch_size=4",
                 "--set", "train.imbalance=sampler"])
    assert code == 0
    curve = pd.read_csv(tmp_path / "lr" / "lr_find.csv")
    assert list(curve.columns) == ["lr", "loss", "smoothed_loss"] and 2 <= len(curve) <= 6
    assert curve["lr"].is_monotonic_increasing and curve["lr"].iloc[0] == 1e-5
    assert (tmp_path / "lr" / "lr_find.png").read_bytes()[:4] == b"\x89PNG"
    suggested = float(re.search(r"--set train\.lr=(\d\.\de[+-]\d+)", capsys.readouterr().out).group(1))
    assert curve["lr"].min() * 0.95 <= suggested <= curve["lr"].max() * 1.05


def test_monai_learning_rate_finder_would_measure_a_different_run():
    """Why `medtl.engine.workflows.lr_find` does not delegate to MONAI's finder (see its module docstring)."""
    from monai.optimizers import LearningRateFinder

    torch.manual_seed(0)
    backbone = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU())
    model = nn.Sequential(backbone, nn.Linear(16, 2))
    backbone.eval()  # a frozen backbone, as in the first phase of freeze_unfreeze
    before = backbone[1].running_mean.clone()
    optimizer = torch.optim.SGD([{"params": backbone.parameters(), "lr": 1e-4},
                                 {"params": model[1].parameters(), "lr": 1e-3}])
    loader = torch.utils.data.DataLoader([{"image": torch.randn(8), "label": i % 2} for i in range(64)], batch_size=16)
    finder = LearningRateFinder(model, optimizer, nn.CrossEntropyLoss(), device="cpu")
    finder.range_test(loader, start_lr=1e-5, end_lr=1.0, num_iter=10, auto_reset=False,
                      image_extractor=lambda b: b["image"], label_extractor=lambda b: b["label"])
    assert optimizer.param_groups[0]["lr"] == optimizer.param_groups[1]["lr"]  # the 0.1 ratio is gone
    assert not torch.equal(backbone[1].running_mean, before)  # the frozen backbone's statistics moved
