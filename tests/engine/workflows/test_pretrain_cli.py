"""`medtl pretrain`: a source model (a classifier, or a segmentation U-Net) trained into the weights cache,
refused over an existing entry before any training."""
from __future__ import annotations

from pathlib import Path

import medtl.engine.workflows.pretrain as pretrain_module
from medtl.cli.main import main
from medtl.models import cached_weights, create_model
from medtl.synth import make_mri, make_xray


def test_pretrain_stores_a_loadable_entry_and_refuses_to_replace_it_untrained(tmp_path, monkeypatch, capsys):
    source = make_xray(tmp_path / "source", patients=10, size=32, fmt="png", images_per_patient=(1, 1), task="source")
    args = ["pretrain", "configs/pretrain_source.yaml", "--as", "tiny-source", "--set", f"data.root={source / 'images'}",
            "--set", "transforms.input_size=[32, 32]", "--set", "train.epochs=1", "--set", "train.batch_size=5",
            "--set", "train.tensorboard=true"]
    assert main(args) == 0
    entry = {w["name"]: w for w in cached_weights()}["tiny-source"]
    assert str(source / "images") in entry["description"] and "granuloma" in entry["description"]
    assert list(Path(entry["path"]).parent.glob("tensorboard/events.*")), "tensorboard logs go into the entry"
    model = create_model("resnet18", num_classes=5, weights="medtl:tiny-source")
    assert model.load_report.loaded

    def must_not_train(*a, **k):
        raise AssertionError("trained although the entry exists")

    monkeypatch.setattr(pretrain_module, "fit_model", must_not_train)
    before = entry["sha256"]
    assert main(args) == 1
    assert "exist already" in capsys.readouterr().err
    assert {w["name"]: w for w in cached_weights()}["tiny-source"]["sha256"] == before


def test_a_segmentation_source_is_stored_whole_and_seeds_a_lesion_map_classifier(tmp_path):
    source = make_mri(tmp_path / "source", patients=5, shape=(16, 16, 16), volumes_per_patient=(1, 1), task="source")
    assert main(["pretrain", "configs/mri_seg_3d.yaml", "--as", "tiny-seg", "--set", f"data.root={source}",
                 "--set", "model.backbone=resnet10_3d", "--set", "model.weights=none",
                 "--set", "transforms.input_size=[16,16,16]", "--set", "seg.patch_size=[8,8,8]",
                 "--set", "seg.encoder_depth=2", "--set", "train.strategy=full", "--set", "train.epochs=1",
                 "--set", "train.batch_size=5"]) == 0
    entry = {w["name"]: w for w in cached_weights()}["tiny-seg"]
    assert "(segmentation: " in entry["description"]
    model = create_model("resnet10_3d", head="lesion_map", encoder_depth=2, weights="medtl:tiny-seg")
    assert any(key.startswith("head.") for key in model.load_report.loaded)
