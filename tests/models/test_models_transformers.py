"""Transformer backbones through the whole path: a 1-channel ViT at a non-native input size loads every
pretrained tensor (patch embedding summed, position embeddings resampled), layer decay gives one rate per block,
and a 2-block ViT trains with each strategy (the linear probe on the class token)."""
import pytest
import timm
import torch
from timm.layers import resample_abs_pos_embed

import timm_toys  # noqa: F401  (registers timm:medtl_toy_vit)
from medtl.engine.training.loop import train
from medtl.engine.training.recipe.optim import backbone_stages, stage_depths
from medtl.engine.training.probe import head_inputs
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.engine.training.recipe.strategy import Phase, apply_phase
from medtl.models import create_model, get_spec

VIT = "timm:medtl_toy_vit"


def squares(n=24, size=32, seed=0):
    """`n` noisy images; odd ones (class 1) carry a bright square."""
    g = torch.Generator().manual_seed(seed)
    data = []
    for i in range(n):
        x = torch.randn(1, size, size, generator=g) * 0.3
        if i % 2:
            x[:, 8:20, 8:20] += 2.0
        data.append({"image": x, "y": i % 2})
    return data


@pytest.fixture(scope="module")
def pretrained_file(tmp_path_factory):
    """A 3-channel checkpoint at the native 64^2, in timm's own key layout."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("vit") / "vit.pth"
    torch.save(timm.create_model("medtl_toy_vit", num_classes=10).state_dict(), path)
    return path


def test_spec_comes_from_timms_pretrained_config():
    spec = get_spec(VIT)
    assert (spec.first_conv, spec.classifier, spec.input_size, spec.mean) == (
        "patch_embed.proj", "head", (64, 64), (0.5, 0.5, 0.5))
    assert spec.blocks == ("patch_embed", "blocks.0", "blocks.1") and spec.target_layer == "blocks.1.norm1"
    swin = get_spec("timm:swin_tiny_patch4_window7_224")
    assert len(swin.blocks) == 13 and swin.blocks[:2] == ("patch_embed", "layers.0.blocks.0")
    assert get_spec("timm:convnext_atto").blocks[:2] == ("stem", "stages.0.blocks.0")
    assert get_spec("timm:vit_small_patch14_dinov2").input_size == (518, 518)


def test_one_channel_vit_at_a_non_native_size_loads_every_tensor(pretrained_file):
    state = torch.load(pretrained_file, weights_only=True)
    model = create_model(VIT, in_chans=1, num_classes=2, weights=str(pretrained_file), input_size=(32, 48))
    report = model.load_report
    assert not report.missing or all(k.startswith("head.") for k in report.missing)
    assert not report.unexpected and not report.mismatched
    assert "pos_embed: resampled (1, 17, 32) -> (1, 7, 32)" in report.adapted
    assert any(note.startswith("patch_embed.proj: 3 -> 1") for note in report.adapted)
    got = model.state_dict()
    assert torch.allclose(got["patch_embed.proj.weight"], state["patch_embed.proj.weight"].sum(1, keepdim=True))
    expected_pos = resample_abs_pos_embed(state["pos_embed"], (2, 3), (4, 4), num_prefix_tokens=1)
    assert torch.allclose(got["pos_embed"], expected_pos)
    for key, value in state.items():
        if key.startswith(("blocks.", "norm.", "cls_token")):
            assert torch.equal(got[key], value), key
    assert model.eval()(torch.randn(2, 1, 32, 48)).shape == (2, 2)


def test_layer_decay_assigns_one_rate_per_block():
    model = create_model(VIT, num_classes=2, input_size=(32, 32))
    optimizer = apply_phase(model, "head", Phase(True, 1.0), TrainSettings(lr=1.0, layer_decay=0.5))
    assert [g["lr"] for g in optimizer.param_groups] == [1.0, 0.5, 0.25, 0.125]
    depths = stage_depths(model, "head", backbone_stages(model, "head"))
    assert {depths[k] for k in depths if k.startswith("blocks.1.")} == {1}
    assert {depths[k] for k in depths if k.startswith("blocks.0.")} == {2}
    assert depths["cls_token"] == depths["pos_embed"] == depths["patch_embed.proj.weight"] == 3
    assert depths["norm.weight"] == depths["head.weight"] == 0


def test_freeze_unfreeze_trains_the_head_then_each_block_at_its_own_rate():
    model = create_model(VIT, num_classes=2, input_size=(32, 32))
    settings = TrainSettings(lr=1.0, layer_decay=0.5, strategy="freeze_unfreeze")
    head_only = apply_phase(model, "head", Phase(False, 0.0), settings)
    assert [len(g["params"]) for g in head_only.param_groups] == [2]
    assert not model.blocks[0].attn.qkv.weight.requires_grad
    unfrozen = apply_phase(model, "head", Phase(True, 0.1), settings)
    assert [g["lr"] for g in unfrozen.param_groups] == pytest.approx([1.0, 0.05, 0.025, 0.0125])
    assert model.blocks[0].attn.qkv.weight.requires_grad


@pytest.mark.parametrize("strategy,extra", [("full", {"layer_decay": 0.75}), ("linear_probe", {}),
                                            ("freeze_unfreeze", {"head_epochs": 1})])
def test_a_two_block_vit_trains_with_each_strategy(strategy, extra):
    torch.manual_seed(0)
    model = create_model(VIT, num_classes=2, input_size=(32, 32))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    settings = TrainSettings(strategy=strategy, epochs=2, batch_size=8, lr=0.01, device="cpu", **extra)
    history = train(model, squares(), settings, head="head", progress=False)
    after = model.state_dict()
    assert len(history) == 2 and history["loss"].notna().all()
    assert not torch.equal(before["head.weight"], after["head.weight"])
    assert torch.equal(before["blocks.0.attn.qkv.weight"], after["blocks.0.attn.qkv.weight"]) == (
        strategy == "linear_probe")


def test_linear_probe_features_are_the_class_token_the_head_reads():
    model = create_model(VIT, num_classes=2, input_size=(32, 32)).eval()
    data = squares(6)
    features, labels = head_inputs(model, "head", data, TrainSettings(batch_size=4, device="cpu"))
    x = torch.stack([d["image"] for d in data])
    with torch.no_grad():
        expected = model.forward_head(model.forward_features(x), pre_logits=True)
    assert features.shape == (6, 32) and torch.allclose(features, expected, atol=1e-6)
    assert labels.tolist() == [0, 1, 0, 1, 0, 1]


@pytest.mark.parametrize("name,size", [("timm:convnext_atto", 32), ("timm:swin_tiny_patch4_window7_224", 64)])
def test_swin_and_convnext_decay_per_block_and_probe_their_pooled_features(name, size):
    model = create_model(name, num_classes=2, input_size=(size, size)).eval()
    head = model.spec.classifier
    optimizer = apply_phase(model, head, Phase(True, 1.0), TrainSettings(lr=1.0, layer_decay=0.5))
    assert len(optimizer.param_groups) == len(model.spec.blocks) + 1 == 14
    data = squares(2, size=size)
    features, _ = head_inputs(model, head, data, TrainSettings(batch_size=2, device="cpu"))
    with torch.no_grad():
        expected = model.forward_head(model.forward_features(torch.stack([d["image"] for d in data])), pre_logits=True)
    assert features.shape == (2, model.spec.feature_dim) and torch.allclose(features, expected, atol=1e-5)


def test_a_wrapped_checkpoint_is_resampled_too(pretrained_file, tmp_path):
    state = torch.load(pretrained_file, weights_only=True)
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, tmp_path / "wrapped.pth")
    model = create_model(VIT, in_chans=1, num_classes=2, weights=str(tmp_path / "wrapped.pth"), input_size=(32, 32))
    assert "pos_embed: resampled (1, 17, 32) -> (1, 5, 32)" in model.load_report.adapted
    assert torch.equal(model.state_dict()["blocks.1.mlp.fc2.weight"], state["blocks.1.mlp.fc2.weight"])
