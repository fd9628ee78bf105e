"""`txv:` and `hf:` weights: each read from a locally made file in its publisher's real format and cache place
(TorchXRayVision's pickled DenseNet module and ResNet state dict in ~/.torchxrayvision/models_data, a Hugging Face
Dinov2Model safetensors file in the hub cache), every tensor arriving; missing files named with their folder."""
import json
import sys
import types

import pytest
import torch
from huggingface_hub import constants
from safetensors.torch import save_file
from torch import nn
from torchvision.models import densenet121, resnet50

import timm_toys  # noqa: F401  (registers timm:medtl_toy_dinov2)
from medtl.config import ExperimentConfig
from medtl.engine.training.setup import Pipelines
from medtl.models import MissingWeightsError, create_model, get_spec
from medtl.models.checkpoints.txv import TXV_WEIGHTS


class DenseNet(nn.Module):
    """TorchXRayVision's DenseNet as it is pickled: torchvision's layout, a 1-channel stem, 18 outputs."""

    def __init__(self):
        super().__init__()
        self.features = densenet121().features
        self.features.conv0 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.classifier = nn.Linear(1024, 18)
        self.register_buffer("op_threshs", torch.rand(18))
        self.upsample = nn.Upsample(size=(224, 224), mode="bilinear", align_corners=False)


@pytest.fixture
def txv_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / ".torchxrayvision" / "models_data"
    folder.mkdir(parents=True)
    return folder


def _save_as_torchxrayvision_module(model, path, monkeypatch):
    """torch.save(model) with the class living in `torchxrayvision.models`, as in the published files; the fake
    package is gone again before medtl reads the file."""
    package, module = types.ModuleType("torchxrayvision"), types.ModuleType("torchxrayvision.models")
    package.models, module.DenseNet = module, DenseNet
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "torchxrayvision", package)
        patch.setitem(sys.modules, "torchxrayvision.models", module)
        patch.setattr(DenseNet, "__module__", "torchxrayvision.models")
        torch.save(model, path)


def test_txv_densenet_module_pickle_loads_every_tensor_without_running_its_code(txv_home, monkeypatch):
    source = DenseNet()
    _save_as_torchxrayvision_module(source, txv_home / TXV_WEIGHTS["densenet121-res224-nih"].file_name, monkeypatch)
    assert "torchxrayvision" not in sys.modules
    model = create_model("densenet121", in_chans=1, num_classes=2, weights="txv:densenet121-res224-nih")
    report, got = model.load_report, model.state_dict()
    expected = {k: v for k, v in source.state_dict().items() if not k.startswith("classifier.") and k != "op_threshs"}
    assert set(report.loaded) >= set(expected) and not report.unexpected and not report.mismatched
    assert [k for k, v in expected.items() if not torch.equal(got[k], v)] == []
    assert any("reset" in note for note in report.adapted) and got["classifier.weight"].shape == (2, 1024)
    assert (model.spec.in_chans, model.spec.input_size, model.spec.normalization(1)) == (
        1, (224, 224), ((0.5,), (1 / 2048,)))


def test_txv_resnet50_state_dict_loads_and_the_pipeline_scales_to_plus_minus_1024(txv_home):
    source = resnet50(num_classes=18)
    source.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    torch.save(source.state_dict(), txv_home / TXV_WEIGHTS["resnet50-res512-all"].file_name)
    model = create_model("resnet50", in_chans=1, num_classes=2, weights="txv:resnet50-res512-all")
    got = model.state_dict()
    assert all(torch.equal(got[k], v) for k, v in source.state_dict().items() if not k.startswith("fc."))
    cfg = ExperimentConfig.from_dict({"model": {"backbone": "resnet50", "weights": "txv:resnet50-res512-all"}})
    pipes = Pipelines.from_config(cfg)
    assert pipes.input_size == (512, 512)
    out = pipes.eval({"image": torch.tensor([[[0.0, 0.5, 1.0]]]), "y": 0})["image"]
    assert out.flatten().tolist() == pytest.approx([-1024.0, 0.0, 1024.0])


def test_missing_txv_file_names_the_file_and_the_folder(txv_home):
    with pytest.raises(MissingWeightsError) as err:
        create_model("densenet121", weights="txv:densenet121-res224-all")
    message = str(err.value)
    assert TXV_WEIGHTS["densenet121-res224-all"].file_name in message and str(txv_home) in message
    with pytest.raises(ValueError, match="txv weights must be one of"):
        create_model("resnet50", weights="txv:densenet121-res224-all")


def _hf_dinov2_state(timm_state):
    """A timm ViT's tensors under Hugging Face Dinov2Model's names (transformers' modeling_dinov2)."""
    hf = {"embeddings.cls_token": timm_state["cls_token"], "embeddings.mask_token": torch.zeros(1, 32),
          "embeddings.position_embeddings": timm_state["pos_embed"],
          "embeddings.patch_embeddings.projection.weight": timm_state["patch_embed.proj.weight"],
          "embeddings.patch_embeddings.projection.bias": timm_state["patch_embed.proj.bias"],
          "layernorm.weight": timm_state["norm.weight"], "layernorm.bias": timm_state["norm.bias"]}
    for i in range(2):
        t, h = f"blocks.{i}.", f"encoder.layer.{i}."
        for kind in ("weight", "bias"):
            q, k, v = timm_state[f"{t}attn.qkv.{kind}"].chunk(3)
            hf.update({f"{h}attention.attention.query.{kind}": q, f"{h}attention.attention.key.{kind}": k,
                       f"{h}attention.attention.value.{kind}": v,
                       f"{h}attention.output.dense.{kind}": timm_state[f"{t}attn.proj.{kind}"],
                       f"{h}norm1.{kind}": timm_state[f"{t}norm1.{kind}"],
                       f"{h}norm2.{kind}": timm_state[f"{t}norm2.{kind}"],
                       f"{h}mlp.fc1.{kind}": timm_state[f"{t}mlp.fc1.{kind}"],
                       f"{h}mlp.fc2.{kind}": timm_state[f"{t}mlp.fc2.{kind}"]})
        hf[f"{h}layer_scale1.lambda1"] = timm_state[f"{t}ls1.gamma"]
        hf[f"{h}layer_scale2.lambda1"] = timm_state[f"{t}ls2.gamma"]
    return {k: v.contiguous() for k, v in hf.items()}


def test_hf_dinov2_checkpoint_in_the_hub_cache_loads_into_the_timm_vit(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    torch.manual_seed(0)
    source = create_model("timm:medtl_toy_dinov2", in_chans=3, num_classes=2)
    for p in source.parameters():  # layer scales start at 1e-5: make every tensor distinguishable
        p.data.normal_()
    timm_state = source.state_dict()
    repo = tmp_path / "models--microsoft--rad-dino"
    snapshot = repo / "snapshots" / "0123456789abcdef"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123456789abcdef")
    save_file(_hf_dinov2_state(timm_state), snapshot / "model.safetensors")
    model = create_model("timm:medtl_toy_dinov2", in_chans=3, num_classes=2, weights="hf:microsoft/rad-dino")
    report, got = model.load_report, model.state_dict()
    assert not report.unexpected and not report.mismatched
    assert [k for k in report.missing] == ["head.weight", "head.bias"]
    assert all(torch.equal(got[k], v) for k, v in timm_state.items() if not k.startswith("head."))
    small = create_model("timm:medtl_toy_dinov2", in_chans=1, num_classes=2, weights="hf:microsoft/rad-dino",
                         input_size=(28, 28))
    assert "pos_embed: resampled (1, 17, 32) -> (1, 5, 32)" in small.load_report.adapted
    assert small.spec.mean == get_spec("timm:medtl_toy_dinov2").mean  # no image processor settings cached
    (snapshot / "preprocessor_config.json").write_text(json.dumps(
        {"image_mean": [0.5307, 0.5307, 0.5307], "image_std": [0.2583, 0.2583, 0.2583],
         "crop_size": {"height": 42, "width": 42}}))
    cfg = ExperimentConfig.from_dict({"model": {"backbone": "timm:medtl_toy_dinov2", "weights": "hf:microsoft/rad-dino"}})
    pipes = Pipelines.from_config(cfg)
    assert pipes.input_size == (42, 42)
    out = pipes.eval({"image": torch.full((1, 2, 2), 0.5307 + 0.2583), "y": 0})["image"]
    assert torch.allclose(out, torch.ones_like(out))


def test_missing_hf_file_names_the_repo_file_and_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(MissingWeightsError) as err:
        create_model("timm:medtl_toy_dinov2", weights="hf:microsoft/rad-dino")
    assert "'model.safetensors'" in str(err.value) and str(tmp_path / "models--microsoft--rad-dino") in str(err.value)
    with pytest.raises(ValueError, match="hf:<org>/<repo>"):
        create_model("timm:medtl_toy_dinov2", weights="hf:rad-dino")
