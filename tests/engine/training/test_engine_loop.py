import numpy as np
import pytest
import torch

from medtl.engine.training.loop import predict_proba, train
from medtl.engine.training.objective import FitContext
from medtl.engine.training.recipe.settings import TrainSettings
from toy_models import TinyNet, blobs, snapshot


def test_linear_probe_never_updates_the_backbone():
    torch.manual_seed(0)
    model = TinyNet()
    before_backbone, before_head = snapshot(model.features), snapshot(model.head)
    train(model, blobs(), TrainSettings(strategy="linear_probe", epochs=3, batch_size=8, lr=0.05), head="head", progress=False)
    after = snapshot(model.features)
    for key, value in before_backbone.items():  # weights and BatchNorm running statistics alike
        assert torch.equal(value, after[key]), key
    assert not torch.equal(before_head["weight"], model.head.weight)

def test_freeze_unfreeze_trains_backbone_only_after_head_epochs():
    torch.manual_seed(0)
    model = TinyNet()
    before = snapshot(model.features)
    train(model, blobs(), TrainSettings(strategy="freeze_unfreeze", epochs=1, head_epochs=1, batch_size=8), head="head", progress=False)
    assert all(torch.equal(v, model.features.state_dict()[k]) for k, v in before.items())
    train(model, blobs(), TrainSettings(strategy="freeze_unfreeze", epochs=2, head_epochs=1, batch_size=8), head="head", progress=False)
    assert not torch.equal(before["0.weight"], model.features[0].weight)

def test_full_fine_tune_learns_and_predicts_probabilities():
    torch.manual_seed(0)
    model = TinyNet()
    history = train(model, blobs(64), TrainSettings(epochs=6, batch_size=8, lr=0.01), head="head", progress=False)
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    proba = predict_proba(model, blobs(16, seed=1), TrainSettings(batch_size=8))
    assert proba.shape == (16, 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    y = np.arange(16) % 2
    assert (proba.argmax(1) == y).mean() >= 0.8

@pytest.mark.parametrize("strategy", ["full", "linear_probe"])
def test_non_finite_loss_names_epoch_and_batch(strategy):
    model = TinyNet()
    data = blobs(8)
    data[0]["image"] = torch.full((1, 16, 16), float("nan"))
    with pytest.raises(FloatingPointError, match=r"fold 2/5: loss became nan at epoch 1, batch \d"):
        train(model, data, TrainSettings(epochs=1, batch_size=8, strategy=strategy), head="head", progress=False,
              context=FitContext(desc="fold 2/5"))


def test_losses_read_in_groups_give_the_same_history_and_name_the_bad_batch(monkeypatch):
    from medtl.engine.training import step_losses

    histories = []
    for every in (1, 3):  # every step, as on a CPU; every third step and at the epoch's end, as on a GPU
        monkeypatch.setitem(step_losses.SYNC_EVERY, "cpu", every)
        torch.manual_seed(0)
        histories.append(train(TinyNet(), blobs(40), TrainSettings(epochs=2, batch_size=8), head="head",
                               progress=False, context=FitContext(seed=1)))
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=1e-6)

    nan = [dict(item, image=torch.full((1, 16, 16), float("nan"))) for item in blobs(40)]
    with pytest.raises(FloatingPointError, match=r"epoch 1, batch 1;"):  # read with batches 2 and 3
        train(TinyNet(), nan, TrainSettings(epochs=1, batch_size=8), head="head", progress=False)
