"""Weight sources, offline: torchvision's hub cache, MedicalNet-style and safetensors files, medtl's cache,
refusal of pickled code, and reported (never silent) mismatches."""
import json
import os
import pickle
import urllib.request
from pathlib import Path

import pytest
import torch
import torchvision
from monai.networks.nets import resnet10
from safetensors.torch import save_file

from medtl.models import (
    MissingWeightsError, UnsafeCheckpointError, WeightMismatchError, cached_weights, create_model, store_weights,
)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:1]}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def _hub_file() -> Path:
    """Where torch.hub caches torchvision's ResNet-18 ImageNet weights (named by the weights enum's url)."""
    url = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url
    return Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints" / url.rsplit("/", 1)[-1]


def _recognisable_resnet18() -> dict[str, torch.Tensor]:
    state = torchvision.models.resnet18().state_dict()
    state["conv1.weight"] = torch.arange(64 * 3 * 49, dtype=torch.float32).reshape(64, 3, 7, 7) / 1000
    return state


def test_imagenet_weights_come_from_torch_hub_cache(no_network):
    state = _recognisable_resnet18()
    _hub_file().parent.mkdir(parents=True)
    torch.save(state, _hub_file())
    model = create_model("resnet18", in_chans=1, num_classes=2, weights="imagenet")
    assert torch.equal(model.conv1.weight, state["conv1.weight"].sum(dim=1, keepdim=True))
    assert torch.equal(model.layer3[1].conv2.weight, state["layer3.1.conv2.weight"])
    report = model.load_report
    assert str(_hub_file()) in report.source and not report.mismatched and not report.unexpected
    assert report.missing == [] and "conv1.weight" in report.loaded and "fc.weight" not in report.loaded
    assert any("3 -> 1 input channels (pretrained kernels summed)" in note for note in report.adapted)
    assert any("head 'fc' reset" in note and "1000" in note for note in report.adapted)
    three = create_model("resnet18", in_chans=3, num_classes=1000, weights="imagenet")
    assert torch.equal(three.fc.weight, state["fc.weight"]) and not three.load_report.adapted


def test_missing_imagenet_file_names_file_and_folder_without_network(no_network):
    with pytest.raises(MissingWeightsError) as error:
        create_model("resnet18", weights="imagenet")
    message = str(error.value)
    assert f"'{_hub_file().name}'" in message and str(_hub_file().parent) in message
    assert "medtl weights fetch resnet18" in message


def test_medicalnet_checkpoint_with_module_prefix_and_state_dict_wrapper(tmp_path, no_network):
    published = resnet10(spatial_dims=3, n_input_channels=1, feed_forward=False, shortcut_type="B",
                         bias_downsample=False).state_dict()  # the layout MedicalNet's checkpoints have
    checkpoint = {"state_dict": {f"module.{key}": value for key, value in published.items()}}
    torch.save(checkpoint, tmp_path / "resnet_10_23dataset.pth")
    from_file = create_model("resnet10_3d", num_classes=3, weights=f"file:{tmp_path / 'resnet_10_23dataset.pth'}")
    assert torch.equal(from_file.layer2[0].downsample[0].weight, published["layer2.0.downsample.0.weight"])
    assert from_file.load_report.missing == ["fc.weight", "fc.bias"]
    assert any("not in checkpoint" in note for note in from_file.load_report.adapted)

    cache = Path(os.environ["MEDTL_HOME"]) / "medicalnet"
    cache.mkdir(parents=True)
    torch.save(checkpoint, cache / "resnet_10_23dataset.pth")
    named = create_model("resnet10_3d", in_chans=2, num_classes=3, weights="medicalnet")
    assert torch.allclose(named.conv1.weight, published["conv1.weight"].repeat(1, 2, 1, 1, 1) / 2)
    with pytest.raises(MissingWeightsError, match="resnet_18_23dataset.pth"):
        create_model("resnet18_3d", weights="medicalnet")


def test_safetensors_and_wrapped_checkpoints_with_prefixes(tmp_path):
    state = _recognisable_resnet18()
    save_file({f"encoder.{k}": v for k, v in state.items()}, tmp_path / "w.safetensors")
    torch.save({"model": {f"backbone.{k}": v for k, v in state.items()}, "epoch": 7}, tmp_path / "w.ckpt")
    for name in ("w.safetensors", "w.ckpt"):
        model = create_model("resnet18", in_chans=3, num_classes=1000, weights=f"file:{tmp_path / name}")
        assert torch.equal(model.conv1.weight, state["conv1.weight"]), name
        assert len(model.load_report.loaded) == len(state)


def test_medtl_cache_round_trip_and_tampered_file_refused():
    source = create_model("resnet18", in_chans=1, num_classes=4)
    path = store_weights("chest-src", source, "resnet18", description="source task")
    info = json.loads((path.parent / "spec.json").read_text())
    assert info["backbone"] == "resnet18" and len(info["sha256"]) == 64
    assert [(e["name"], e["path"]) for e in cached_weights()] == [("chest-src", str(path))]
    model = create_model("resnet18", in_chans=1, num_classes=4, weights="medtl:chest-src")
    assert torch.equal(model.fc.weight, source.fc.weight) and torch.equal(model.conv1.weight, source.conv1.weight)
    assert "medtl:chest-src" in model.load_report.source
    with pytest.raises(FileExistsError):
        store_weights("chest-src", source, "resnet18")
    with pytest.raises(ValueError, match="must be one of"):
        create_model("resnet34", weights="medtl:chest-src")

    save_file({k: v + 1 for k, v in source.state_dict().items() if v.is_floating_point()}, path)
    with pytest.raises(ValueError, match="sha256"):
        create_model("resnet18", weights="medtl:chest-src")


class _WritesMarker:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickled_code_is_refused_and_never_runs(tmp_path, no_network):
    marker = tmp_path / "pwned"
    torch.save({"state_dict": {"conv1.weight": _WritesMarker(marker)}}, tmp_path / "evil.pth")
    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"conv1.weight": _WritesMarker(marker)}, protocol=2))
    _hub_file().parent.mkdir(parents=True)
    torch.save(_WritesMarker(marker), _hub_file())
    for weights in (f"file:{tmp_path / 'evil.pth'}", f"file:{tmp_path / 'evil.pt'}", "imagenet"):
        with pytest.raises(UnsafeCheckpointError, match=r"torch.save\(model.state_dict\(\)"):
            create_model("resnet18", weights=weights)
    assert not marker.exists()


def test_backbone_mismatch_raises_unless_allowed(tmp_path):
    state = _recognisable_resnet18()
    state["layer1.0.conv1.weight"] = torch.zeros(64, 64, 1, 1)
    del state["layer4.1.bn2.bias"]
    state["aux.weight"] = torch.zeros(3)
    torch.save(state, tmp_path / "odd.pth")
    with pytest.raises(WeightMismatchError, match=r"layer1.0.conv1.weight expects \[64, 64, 3, 3\]"):
        create_model("resnet18", weights=f"file:{tmp_path / 'odd.pth'}")
    with pytest.warns(UserWarning, match="1 checkpoint tensors not used"):
        model = create_model("resnet18", weights=f"file:{tmp_path / 'odd.pth'}", allow_mismatch=True)
    report = model.load_report
    assert report.mismatched == [("layer1.0.conv1.weight", (64, 64, 3, 3), (64, 64, 1, 1))]
    assert report.missing == ["layer4.1.bn2.bias"] and report.unexpected == ["aux.weight"]
    assert json.loads(report.to_json())["mismatched"] == [["layer1.0.conv1.weight", [64, 64, 3, 3], [64, 64, 1, 1]]]
    assert "mismatched (fresh init): layer1.0.conv1.weight" in str(report)
    assert torch.equal(model.layer2[0].conv1.weight, state["layer2.0.conv1.weight"])
    with pytest.raises(WeightMismatchError, match="no tensor of the checkpoint fits"):
        torch.save({"x": torch.zeros(1)}, tmp_path / "other.pth")
        create_model("resnet18", weights=f"file:{tmp_path / 'other.pth'}", allow_mismatch=True)


def test_weights_syntax_is_checked_per_backbone(tmp_path):
    with pytest.raises(ValueError, match=r"weights must be one of \{.*'medicalnet'.*\}. Got 'imagenet'"):
        create_model("resnet10_3d", weights="imagenet")
    with pytest.raises(ValueError, match="Got 'medicalnet' instead"):
        create_model("resnet18", weights="medicalnet")
    with pytest.raises(ValueError, match="Got 'file:' instead"):
        create_model("resnet18", weights="file:")
    with pytest.raises(FileNotFoundError, match="no such checkpoint file"):
        create_model("resnet18", weights=f"file:{tmp_path / 'absent.pth'}")
    with pytest.raises(ValueError, match="suffix must be one of"):
        create_model("resnet18", weights=f"file:{tmp_path / 'weights.npz'}")


def test_timm_weights_come_from_the_hugging_face_cache(tmp_path, monkeypatch, no_network):
    timm = pytest.importorskip("timm")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(MissingWeightsError, match="not in the Hugging Face cache"):
        create_model("timm:resnet18", weights="imagenet")
    repo = tmp_path / "hf" / "models--timm--resnet18.a1_in1k"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    state = timm.create_model("resnet18").state_dict()
    save_file(state, repo / "snapshots" / "abc123" / "model.safetensors")
    model = create_model("timm:resnet18", in_chans=1, num_classes=2, weights="imagenet")
    assert torch.allclose(model.conv1.weight, state["conv1.weight"].sum(dim=1, keepdim=True))
    assert "resnet18.a1_in1k" in model.load_report.source


def test_medicalnet_file_is_checked_against_its_recorded_published_sha256(no_network):
    from medtl.models.checkpoints.cache import file_sha256
    from medtl.models.checkpoints.published_checksum import record_path

    cache = Path(os.environ["MEDTL_HOME"]) / "medicalnet"
    cache.mkdir(parents=True)
    path = cache / "resnet_10_23dataset.pth"
    published = resnet10(spatial_dims=3, n_input_channels=1, feed_forward=False, shortcut_type="B",
                         bias_downsample=False).state_dict()
    torch.save({"state_dict": {f"module.{k}": v for k, v in published.items()}}, path)
    unchecked = create_model("resnet10_3d", num_classes=2, weights="medicalnet")
    assert "sha256 not checked" in unchecked.load_report.source
    record_path(path).write_text(f"{file_sha256(path)}  {path.name}\n")
    checked = create_model("resnet10_3d", num_classes=2, weights="medicalnet")
    assert f"sha256 matches the published {file_sha256(path)[:12]}" in checked.load_report.source
    record_path(path).write_text("0" * 64 + "\n")
    with pytest.raises(ValueError, match="refused: its sha256 is") as err:
        create_model("resnet10_3d", num_classes=2, weights="medicalnet")
    assert str(path) in str(err.value) and "0" * 64 in str(err.value)


def test_fetch_puts_txv_and_medicalnet_files_where_they_are_read_and_records_the_published_sha256(
        tmp_path, monkeypatch):
    import hashlib

    import medtl.models.checkpoints.fetch as fetch
    from medtl.models import fetch_weights
    from medtl.models.checkpoints.published_checksum import record_path
    from medtl.models.checkpoints.txv import TXV_WEIGHTS, txv_folder

    monkeypatch.setenv("HOME", str(tmp_path))
    downloaded = []

    def fake_download(url, dst, progress=True):
        downloaded.append(url)
        Path(dst).write_bytes(b"weights")

    monkeypatch.setattr(fetch.torch.hub, "download_url_to_file", fake_download)
    path = fetch_weights("resnet50", "txv:resnet50-res512-all")
    assert path == txv_folder() / TXV_WEIGHTS["resnet50-res512-all"].file_name and path.read_bytes() == b"weights"
    assert downloaded == [TXV_WEIGHTS["resnet50-res512-all"].url]
    monkeypatch.setattr(fetch, "published_sha256", lambda url: hashlib.sha256(b"weights").hexdigest())
    medicalnet = fetch_weights("resnet10_3d")
    assert record_path(medicalnet).read_text().split()[0] == hashlib.sha256(b"weights").hexdigest()
    medicalnet.unlink()
    monkeypatch.setattr(fetch, "published_sha256", lambda url: "0" * 64)
    with pytest.raises(ValueError, match="refused"):
        fetch_weights("resnet10_3d")
    assert not medicalnet.exists() and not record_path(medicalnet).exists()  # a differing download is not kept
