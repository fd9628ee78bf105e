"""`medtl weights list` and `medtl weights import`, offline, with caches in tmp folders."""
import argparse
import json
import os
from pathlib import Path

import pytest
import torch
from monai.networks.nets import resnet10

from medtl.cli.inputs import weights as weights_cli
from medtl.models import cached_weights, create_model, store_weights


def _medtl_weights(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="medtl")
    weights_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["weights", *argv])
    return args.func(args)


def _row(output: str, backbone: str, weights: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.split()[:2] == [backbone, weights])


def test_list_says_what_is_offline_and_where_it_is_read_from(capsys):
    hub = Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    torch.save({}, hub / "resnet18-f37072fd.pth")
    store_weights("cxr", {"conv1.weight": torch.zeros(64, 3, 7, 7)}, "resnet18")
    assert _medtl_weights("list") == 0
    out = capsys.readouterr().out
    assert _row(out, "resnet18", "imagenet") == ["resnet18", "imagenet", "yes", str(hub / "resnet18-f37072fd.pth")]
    assert _row(out, "resnet34", "imagenet")[2] == "no"
    medicalnet = Path(os.environ["MEDTL_HOME"]) / "medicalnet" / "resnet_50_23dataset.pth"
    assert _row(out, "resnet50_3d", "medicalnet") == ["resnet50_3d", "medicalnet", "no", str(medicalnet)]
    assert _row(out, "resnet18", "medtl:cxr")[2:] == ["yes", cached_weights()[0]["path"]]
    assert _row(out, "i3d:resnet18", "medtl:cxr")[2] == "yes"
    assert _row(out, "resnet34", "medtl:NAME")[2] == "no"
    assert _row(out, "densenet121_3d", "none")[2] == "yes"
    terms = out.split("terms of use of the published weights:\n")[1].splitlines()
    medicalnet_terms = next(line for line in terms if line.lstrip().startswith("medicalnet ("))
    assert "resnet50_3d" in medicalnet_terms and medicalnet_terms.endswith(": MIT (Tencent MedicalNet)")
    imagenet_terms = [line for line in terms if line.lstrip().startswith("imagenet (")]
    assert any("resnet18," in line and "ImageNet-1k" in line for line in imagenet_terms)


def test_import_test_loads_then_caches(tmp_path, capsys):
    published = resnet10(spatial_dims=3, n_input_channels=1, feed_forward=False, shortcut_type="B",
                         bias_downsample=False).state_dict()
    torch.save({"state_dict": {f"module.{k}": v for k, v in published.items()}}, tmp_path / "mn.pth")
    assert _medtl_weights("import", str(tmp_path / "mn.pth"), "--as", "mn10", "--backbone", "resnet10_3d") == 0
    assert "stored as medtl:mn10" in capsys.readouterr().out
    assert [(e["name"], e["backbone"]) for e in cached_weights()] == [("mn10", "resnet10_3d")]
    model = create_model("resnet10_3d", weights="medtl:mn10")
    assert torch.equal(model.layer4[0].conv2.weight, published["layer4.0.conv2.weight"])

    assert _medtl_weights("import", str(tmp_path / "mn.pth"), "--as", "wrong", "--backbone", "resnet18") == 1
    assert "do not fit" in capsys.readouterr().err
    assert [e["name"] for e in cached_weights()] == ["mn10"]


def test_import_refuses_pickled_objects(tmp_path, capsys):
    torch.save({"state_dict": argparse.Namespace(x=1)}, tmp_path / "obj.pth")
    assert _medtl_weights("import", str(tmp_path / "obj.pth"), "--as", "obj", "--backbone", "resnet18") == 1
    assert "refused to load" in capsys.readouterr().err and cached_weights() == []


@pytest.mark.parametrize("argv", [["fetch"], ["import", "x.pth", "--as", "y"]])
def test_arguments_are_required(argv):
    with pytest.raises(SystemExit):
        _medtl_weights(*argv)


def test_list_filters_by_family_and_source_and_prints_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    from medtl.models.checkpoints.txv import TXV_WEIGHTS, txv_folder
    txv_folder().mkdir(parents=True)
    torch.save({}, txv_folder() / TXV_WEIGHTS["densenet121-res224-chex"].file_name)
    assert _medtl_weights("list", "--source", "txv", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["backbone"] for row in rows} == {"densenet121", "resnet50"} and len(rows) == len(TXV_WEIGHTS)
    chex = next(row for row in rows if row["weights"] == "txv:densenet121-res224-chex")
    assert chex["offline"] == "yes" and chex["path"] == str(txv_folder() / TXV_WEIGHTS["densenet121-res224-chex"].file_name)
    assert all(row["offline"] == "no" for row in rows if row is not chex)
    assert _medtl_weights("list", "--family", "timm", "--source", "hf") == 0
    out = capsys.readouterr().out
    assert _row(out, "timm:vit_base_patch14_dinov2", "hf:microsoft/rad-dino")[2] == "no"
    assert "MIT (RAD-DINO" in out and "resnet18" not in out
