"""Optimizers, learning-rate schedules, layer-wise decay and the checks on `train.*` settings."""
import pytest
import torch
from torch import nn

from medtl.config import ExperimentConfig
from medtl.engine.training.loop import train
from medtl.engine.training.monitor import TrainingMonitor
from medtl.engine.training.recipe.optim import backbone_stages, make_optimizer, stage_depths
from medtl.engine.training.recipe.schedule import lr_factor
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.engine.training.recipe.strategy import Phase, apply_phase
from medtl.models import create_model
from toy_models import tiny_net


def tiny_data(n=24):
    g = torch.Generator().manual_seed(0)
    return [{"image": torch.randn(1, 8, 8, generator=g), "y": i % 2} for i in range(n)]


def torch_one_cycle_lrs(total, pct_start, max_lr=0.1):
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=max_lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total, pct_start=pct_start)
    lrs = []
    for _ in range(total):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize("total,warmup", [(40, 0), (37, 6)])
def test_one_cycle_factor_follows_torch_one_cycle_lr(total, warmup):
    expected = torch_one_cycle_lrs(total, warmup / total if warmup else 0.3)
    ours = [0.1 * lr_factor(s, total, warmup, "onecycle") for s in range(total)]
    assert ours == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_constant_and_cosine_share_the_linear_warm_up():
    constant = [lr_factor(s, 10, 4, "constant") for s in range(10)]
    cosine = [lr_factor(s, 10, 4, "cosine") for s in range(10)]
    assert constant[:4] == cosine[:4] == [0.25, 0.5, 0.75, 1.0]
    assert constant[4:] == [1.0] * 6
    assert all(a > b for a, b in zip(cosine[4:], cosine[5:])) and cosine[-1] < 0.1


def test_training_with_sgd_and_one_cycle_steps_the_lr_along_the_cycle(monkeypatch):
    seen = []
    monkeypatch.setattr(TrainingMonitor, "step", lambda self, bar, step, loss, lr, ips: seen.append(lr))
    model = tiny_net()
    settings = TrainSettings(epochs=2, batch_size=8, lr=0.1, optimizer="sgd", schedule="onecycle")
    train(model, tiny_data(), settings, head="4", progress=False)
    assert seen == pytest.approx(torch_one_cycle_lrs(6, 0.3), rel=1e-9, abs=1e-15)
    optimizer = apply_phase(model, "4", Phase(True, 1.0), settings)
    assert isinstance(optimizer, torch.optim.SGD)
    assert optimizer.defaults["momentum"] == 0.9 and optimizer.defaults["nesterov"]


@pytest.mark.parametrize("backbone", ["resnet18", "densenet121", "efficientnet_b0", "resnet10_3d"])
def test_layer_decay_gives_the_head_the_most_and_the_stem_the_least(backbone):
    model = create_model(backbone, num_classes=2)
    head = model.spec.classifier
    optimizer = apply_phase(model, head, Phase(True, 1.0), TrainSettings(lr=1.0, layer_decay=0.5))
    lrs = [group["lr"] for group in optimizer.param_groups]
    assert lrs == [0.5**d for d in range(len(lrs))] and len(lrs) == len(model.spec.feature_layers) + 1
    first = {id(p) for p in optimizer.param_groups[0]["params"]}
    last = {id(p) for p in optimizer.param_groups[-1]["params"]}
    assert {id(p) for p in model.get_submodule(head).parameters()} == first
    assert id(model.get_submodule(model.spec.first_conv).weight) in last
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(model.parameters()))


def test_layer_decay_depths_follow_resnet_stages_and_a_plain_module_uses_its_children():
    model = create_model("resnet18", num_classes=2)
    depths = stage_depths(model, "fc", backbone_stages(model, "fc"))
    by_module = {name.split(".")[0]: depth for name, depth in depths.items()}
    assert by_module == {"conv1": 5, "bn1": 5, "layer1": 4, "layer2": 3, "layer3": 2, "layer4": 1, "fc": 0}
    plain = tiny_net()
    assert backbone_stages(plain, "4") == ["0", "1", "2", "3"]
    assert stage_depths(plain, "4", backbone_stages(plain, "4"))["0.weight"] == 4


@pytest.mark.parametrize("train_keys,message", [
    ({"layer_decay": 0.8, "strategy": "linear_probe"}, "applies to train.strategy full or freeze_unfreeze"),
    ({"layer_decay": 1.5}, "train.layer_decay must be less than or equal to 1"),
    ({"patience": 3}, "needs a validation split"),
    ({"val_fraction": 1.0}, "train.val_fraction must be less than 1"),
    ({"optimizer": "adam"}, "train.optimizer must be one of {'adamw', 'sgd'}"),
    ({"imbalance": "oversample"}, "train.imbalance must be one of"),
    ({"precision": "fp16"}, "train.precision must be one of"),
    ({"channels_last": "yes"}, "train.channels_last must be true or false or 'auto'"),
])
def test_bad_train_settings_are_refused_by_name(train_keys, message):
    with pytest.raises(ValueError, match=message):
        TrainSettings.from_config(ExperimentConfig.from_dict({"train": train_keys}))


def test_every_setting_is_a_documented_config_key():
    cfg = ExperimentConfig.from_dict({"train": {"channels_last": True, "layer_decay": 0.75, "val_fraction": 0.2,
                                                "patience": 2, "schedule": "constant"}})
    settings = TrainSettings.from_config(cfg)
    assert (settings.channels_last, settings.layer_decay, settings.patience) == (True, 0.75, 2)
    assert TrainSettings.from_config(ExperimentConfig.from_dict({})) == TrainSettings()


@pytest.mark.parametrize("name,reference", [
    ("adamw", lambda params: torch.optim.AdamW(params, lr=0.01, weight_decay=0.1, foreach=False)),
    ("sgd", lambda params: torch.optim.SGD(params, lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1,
                                          foreach=False)),
])
def test_fused_optimizers_take_the_same_steps_as_the_per_tensor_ones(name, reference):
    torch.manual_seed(0)
    ours, theirs = nn.Linear(5, 3), nn.Linear(5, 3)
    theirs.load_state_dict(ours.state_dict())
    start = ours.weight.detach().clone()
    optimizer = make_optimizer([{"params": ours.parameters()}], name, lr=0.01, weight_decay=0.1)
    baseline = reference(theirs.parameters())
    assert optimizer.defaults["fused"] and not baseline.defaults.get("fused")
    x = torch.randn(16, 5)
    for _ in range(5):
        for model, opt in ((ours, optimizer), (theirs, baseline)):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b)
    assert (ours.weight - start).abs().min() > 1e-3  # every weight moved
