"""The training loop's new knobs: balanced sampling, validation with early stopping and best-weight selection
(also across a resume), bf16 on the CPU, channels-last, torch.compile and TensorBoard."""
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import medtl.engine.training.loop as loop
from medtl.engine.training.checkpoint import STATE_FILE
from medtl.engine.tasks.imbalance import balancing
from medtl.engine.training.loop import train, training_loader
from medtl.engine.training.monitor import TrainingMonitor
from medtl.engine.training.objective import FitContext
from medtl.engine.training.selection import Validation
from medtl.engine.training.recipe.settings import TrainSettings, autocast_for, cpu_supports_bf16, memory_format_for
from medtl.engine.training.training_plots import plot_history
from medtl.engine.tasks.validation import best_epoch_note
from toy_models import TinyNet, blobs


def weights_of(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class Signal:
    """A crafted validation metric, one value per epoch, that snapshots the weights it was measured on."""

    def __init__(self, values, start=0):
        self.values, self.calls, self.seen = values, start, {}

    def __call__(self, model):
        self.calls += 1
        self.seen[self.calls] = weights_of(model)
        value = self.values[self.calls - 1]
        if value is None:
            raise KeyboardInterrupt("killed during validation")
        return value


def test_sampler_draws_classes_in_equal_shares():
    y = np.array([0] * 90 + [1] * 10)
    data = [{"image": torch.zeros(1, 2, 2), "y": int(label)} for label in y]
    balance = balancing("sampler", y, 2)
    assert balance.loss_weights is None
    torch.manual_seed(0)
    drawn = torch.cat([batch["y"] for _ in range(20) for batch in training_loader(data, TrainSettings(batch_size=50),
                                                                                  sample_weights=balance.sample_weights)])
    assert len(drawn) == 2000 and 0.45 < drawn.float().mean() < 0.55  # 10% of the items, half of the draws
    assert balancing("loss", y, 2).loss_weights.tolist() == pytest.approx([100 / 180, 100 / 20])


def test_sampler_is_refused_under_ddp(monkeypatch):
    monkeypatch.setattr(loop, "is_distributed", lambda: True)
    with pytest.raises(ValueError, match="DDP"):
        training_loader(blobs(4), TrainSettings(), sample_weights=np.ones(4))


def test_early_stopping_stops_after_patience_and_restores_the_best_epoch():
    torch.manual_seed(0)
    model = TinyNet()
    signal = Signal([0.5, 0.7, 0.6, 0.65, 0.9, 0.95])
    settings = TrainSettings(epochs=6, batch_size=8, lr=0.01, val_fraction=0.2, patience=2)
    history = train(model, blobs(24), settings, head="head", progress=False,
                    context=FitContext(validation=Validation("val_auc", signal)))
    assert history["epoch"].tolist() == [1, 2, 3, 4]  # epochs 3 and 4 did not beat epoch 2
    assert history["val_auc"].tolist() == [0.5, 0.7, 0.6, 0.65]
    assert same(weights_of(model), signal.seen[2])
    assert not same(signal.seen[2], signal.seen[4])


def test_an_epoch_that_ties_the_best_metric_is_kept_but_does_not_reset_patience():
    torch.manual_seed(0)
    model = TinyNet()
    signal = Signal([0.8, 1.0, 1.0, 1.0, 1.0, 1.0])  # a small validation set's AUC saturates
    settings = TrainSettings(epochs=6, batch_size=8, lr=0.01, val_fraction=0.2, patience=2)
    history = train(model, blobs(24), settings, head="head", progress=False,
                    context=FitContext(validation=Validation("val_auc", signal)))
    assert history["epoch"].tolist() == [1, 2, 3, 4]  # epochs 3 and 4 only tie epoch 2
    assert same(weights_of(model), signal.seen[4]) and not same(signal.seen[2], signal.seen[4])
    assert best_epoch_note(history) == ", best val_auc 1.000 at epoch 4"


def test_select_best_false_keeps_the_last_epoch_and_linear_probe_selects_too():
    torch.manual_seed(0)
    model = TinyNet()
    signal = Signal([0.9, 0.5, 0.4])
    train(model, blobs(24), TrainSettings(epochs=3, batch_size=8, val_fraction=0.2, select_best=False), head="head",
          progress=False,
                    context=FitContext(validation=Validation("val_auc", signal)))
    assert same(weights_of(model), signal.seen[3])
    probe = Signal([0.6, 0.8, 0.7])
    history = train(model, blobs(24), TrainSettings(strategy="linear_probe", epochs=3, batch_size=8, lr=0.05,
                                                  val_fraction=0.2), head="head", progress=False,
                    context=FitContext(validation=Validation("val_auc", probe)))
    assert history["val_auc"].tolist() == [0.6, 0.8, 0.7] and same(weights_of(model), probe.seen[2])


@pytest.mark.parametrize("strategy", ["full", "linear_probe"])
def test_a_run_killed_during_validation_resumes_with_its_best_epoch_and_patience(tmp_path, strategy):
    values = [0.5, 0.8, 0.7, 0.75, 0.6, 0.99]
    settings = TrainSettings(strategy=strategy, epochs=6, batch_size=8, lr=0.01, val_fraction=0.2, patience=3)

    def run(signal, folder):
        torch.manual_seed(0)
        model = TinyNet()
        history = train(model, blobs(24), settings, head="head", progress=False,
                        context=FitContext(seed=3, checkpoint=folder, validation=Validation("val_auc", signal)))
        return model, history

    straight_model, straight = run(Signal(values), tmp_path / "straight")
    with pytest.raises(KeyboardInterrupt):
        run(Signal(values[:3] + [None]), tmp_path / "killed")  # dies in epoch 4, after epoch 3's checkpoint
    saved = torch.load(tmp_path / "killed" / STATE_FILE, weights_only=True)
    assert saved["epoch"] == 3 and saved["selection"]["best_epoch"] == 2 and saved["selection"]["stale_epochs"] == 1
    resumed_model, resumed = run(Signal(values, start=3), tmp_path / "killed")
    assert straight["epoch"].tolist() == resumed["epoch"].tolist() == [1, 2, 3, 4, 5]  # stale after epochs 3-5
    pd.testing.assert_frame_equal(straight.drop(columns=["seconds", "images_per_s"]),
                                  resumed.drop(columns=["seconds", "images_per_s"]))
    assert same(weights_of(straight_model), weights_of(resumed_model))


def test_history_png_shows_loss_and_validation(tmp_path):
    path = plot_history(pd.DataFrame({"epoch": [1, 2, 3], "loss": [0.7, 0.5, 0.4], "val_dice": [0.2, 0.6, 0.5]}),
                        tmp_path / "history.png")
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 5000


@pytest.mark.skipif(not cpu_supports_bf16(), reason="this CPU has no native bf16")
def test_bf16_precision_autocasts_on_the_cpu():
    torch.manual_seed(0)
    model = TinyNet()
    dtypes = []
    model.features[0].register_forward_hook(lambda module, args, out: dtypes.append(out.dtype))
    history = train(model, blobs(24), TrainSettings(epochs=1, batch_size=8, precision="bf16", device="cpu"),
                    head="head", progress=False)
    assert set(dtypes) == {torch.bfloat16} and np.isfinite(history["loss"]).all()
    dtypes.clear()
    train(model, blobs(8), TrainSettings(epochs=1, batch_size=8, precision="fp32", device="cpu"), head="head",
          progress=False)
    assert set(dtypes) == {torch.float32}


def test_bf16_on_a_cpu_without_it_is_refused(monkeypatch):
    monkeypatch.setattr("medtl.engine.training.recipe.settings.cpu_supports_bf16", lambda: False)
    with pytest.raises(ValueError, match="no native bf16"):
        autocast_for(torch.device("cpu"), "bf16")
    assert autocast_for(torch.device("cpu"), "auto").__class__.__name__ == "nullcontext"


def test_channels_last_and_compile_reach_the_model_and_inputs(monkeypatch):
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda module: compiled.append(module) or module)
    torch.manual_seed(0)
    model = TinyNet()
    layouts = []
    model.features[0].register_forward_pre_hook(
        lambda module, args: layouts.append(args[0].is_contiguous(memory_format=torch.channels_last)))
    train(model, blobs(16), TrainSettings(epochs=1, batch_size=8, channels_last=True, compile=True), head="head",
          progress=False)
    assert compiled == [model]
    assert layouts == [True, True]
    assert model.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    cuda = torch.device("cuda")
    assert memory_format_for("auto", cuda, TinyNet()) == torch.channels_last
    assert memory_format_for(None, cuda, nn.Conv3d(1, 1, 3)) is None
    assert memory_format_for(True, cuda, nn.Conv3d(1, 1, 3)) == torch.channels_last_3d
    assert memory_format_for("auto", torch.device("cpu"), TinyNet()) is None


def test_tensorboard_logs_steps_and_epochs(tmp_path):
    EventAccumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator").EventAccumulator

    torch.manual_seed(0)
    train(TinyNet(), blobs(16), TrainSettings(epochs=2, batch_size=8, tensorboard=True, val_fraction=0.2),
          head="head", progress=False,
          context=FitContext(validation=Validation("val_auc", lambda model: 0.75), log_dir=tmp_path / "tb"))
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/lr", "epoch/loss", "epoch/val_auc"} <= tags
    assert len(events.Scalars("train/loss")) == 4 and [e.value for e in events.Scalars("epoch/val_auc")] == [0.75] * 2
    with pytest.raises(ValueError, match="needs a folder"):
        train(TinyNet(), blobs(8), TrainSettings(epochs=1, tensorboard=True), head="head", progress=False)


def test_missing_tensorboard_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match=r"pip install 'medtl\[tensorboard\]'"):
        TrainingMonitor.create(True, tmp_path)


def test_progress_bar_shows_loss_lr_throughput_and_last_validation():
    monitor = TrainingMonitor(None)
    assert list(monitor.postfix(0.5, 1e-3, 100.0)) == ["loss", "lr", "img/s"]
    monitor.epoch({"epoch": 1, "loss": 0.5, "val_auc": 0.8125})
    assert monitor.postfix(0.5, 1e-3, 100.0)["val_auc"] == "0.812"


def test_loader_workers_follow_the_machine_unless_set(monkeypatch):
    import medtl.engine.training.recipe.settings as settings_module

    monkeypatch.setattr(settings_module.os, "cpu_count", lambda: 16)
    assert TrainSettings(device="cuda").loader_workers == 7  # one per two cores beyond the first two
    assert TrainSettings(device="cpu").loader_workers == 0  # workers would compete with the model's threads
    assert TrainSettings(device="cuda", num_workers=2).loader_workers == 2
    monkeypatch.setattr(settings_module.os, "cpu_count", lambda: 64)
    assert TrainSettings(device="cuda").loader_workers == 8
