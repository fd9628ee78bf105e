import pytest

from medtl.config import CONFIG_DIR, ExperimentConfig
from medtl.config_choices import CHOICES
from medtl.config_schema import render_defaults
from medtl.errors import ConfigError, MissingWeightsError
from medtl.preflight import check_ready


def test_defaults_overrides_and_resolved_copy(tmp_path):
    cfg = ExperimentConfig.from_dict({"train": {"epochs": 2}}).with_overrides(["cv.folds=3", "transforms.input_size=[32, 32]"])
    assert (cfg["train.epochs"], cfg["cv.folds"], cfg["transforms.input_size"]) == (2, 3, [32, 32])
    again = ExperimentConfig.from_yaml(cfg.to_yaml(tmp_path / "config.yaml"))
    assert again.data == cfg.data


def test_defaults_yaml_is_rendered_from_the_schema():
    assert (CONFIG_DIR / "defaults.yaml").read_text() == render_defaults(), \
        "run: python -m medtl.config_schema > medtl/configs/defaults.yaml"
    assert ExperimentConfig.from_yaml(CONFIG_DIR / "defaults.yaml").data == ExperimentConfig.from_dict({}).data


@pytest.mark.parametrize("name", ["demo_xray.yaml", "mri_cls_3d.yaml", "mri_seg_3d.yaml", "pretrain_source.yaml",
                                  "pretrain_mri_3d.yaml", "pretrain_mri_seg_3d.yaml"])
def test_packaged_configs_validate(name):
    assert ExperimentConfig.packaged(name)["name"] == name.removesuffix(".yaml")


def test_inherits_reads_parent_first(tmp_path):
    (tmp_path / "base.yaml").write_text("seed: 7\ntrain:\n  epochs: 9\n  lr: 0.01\n")
    (tmp_path / "child.yaml").write_text("inherits: base.yaml\ntrain:\n  epochs: 3\n")
    cfg = ExperimentConfig.from_yaml(tmp_path / "child.yaml")
    assert (cfg["seed"], cfg["train.epochs"], cfg["train.lr"]) == (7, 3, 0.01)


def test_unknown_key_is_named_with_a_suggestion(tmp_path):
    (tmp_path / "bad.yaml").write_text("train:\n  epoch: 3\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: unknown config key 'train.epoch'. Did you mean 'train.epochs'"):
        ExperimentConfig.from_yaml(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match=r"--set: unknown config key 'trian'. Did you mean 'train'"):
        ExperimentConfig.from_dict({}).with_overrides(["trian.epochs=3"])


def test_choice_errors_name_the_key_and_every_allowed_value():
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict({}).with_overrides(["explain.method=gradcamm"])
    allowed = ", ".join(repr(m) for m in CHOICES["explain.method"])
    assert str(err.value) == f"--set: explain.method must be one of {{{allowed}}}. Got 'gradcamm' instead."


def test_every_bad_key_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict({"train": {"epochs": "many", "lr": -1, "device": "gpu"}, "cv": {"folds": 1}})
    lines = str(err.value).splitlines()
    assert lines == [
        "<dict>: train.epochs must be an int. Got 'many' instead.",
        "<dict>: train.lr must be greater than 0. Got -1 instead.",
        "<dict>: train.device must be one of {auto, cpu, cuda, cuda:N, mps}. Got 'gpu' instead.",
        "<dict>: cv.folds must be greater than or equal to 2. Got 1 instead.",
    ]


def test_cross_key_rules_fail_at_load():
    with pytest.raises(ConfigError, match="train.patience needs a validation split"):
        ExperimentConfig.from_dict({"train": {"patience": 3}})
    with pytest.raises(ConfigError, match="train.layer_decay applies to train.strategy full"):
        ExperimentConfig.from_dict({"train": {"layer_decay": 0.75, "strategy": "linear_probe"}})


def test_set_reads_values_by_the_declared_type():
    cfg = ExperimentConfig.from_dict({}).with_overrides([
        "data.positive_label=1", "name=no", "data.root=2024-01-01", "train.lr=1e-3", "transforms.input_size=[32, 32]", "train.channels_last=auto", "data.manifest=null", "model.weights=none",
        "train.compile=yes", "train.patience=null"])
    assert cfg["data.positive_label"] == "1" and cfg["name"] == "no" and cfg["data.root"] == "2024-01-01"
    assert cfg["train.lr"] == 0.001 and cfg["transforms.input_size"] == [32, 32]
    assert cfg["train.channels_last"] == "auto" and cfg["data.manifest"] is None and cfg["model.weights"] == "none"
    assert cfg["train.compile"] is True and cfg["train.patience"] is None
    with pytest.raises(ConfigError, match="train.epochs must be an int. Got 'three' instead"):
        ExperimentConfig.from_dict({}).with_overrides(["train.epochs=three"])
    with pytest.raises(ConfigError, match="key=value"):
        ExperimentConfig.from_dict({}).with_overrides(["train.epochs"])


def test_yaml_files_keep_dates_and_numbers_as_text_for_text_keys(tmp_path):
    (tmp_path / "c.yaml").write_text("name: 2024-01-01\ndata:\n  positive_label: 1\ntrain:\n  lr: 3e-4\n")
    cfg = ExperimentConfig.from_yaml(tmp_path / "c.yaml")
    assert (cfg["name"], cfg["data.positive_label"], cfg["train.lr"]) == ("2024-01-01", "1", 0.0003)


def test_inherits_cycle_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("inherits: b.yaml\n")
    (tmp_path / "b.yaml").write_text("inherits: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        ExperimentConfig.from_yaml(tmp_path / "a.yaml")


def test_schema_choices_cover_what_the_engine_accepts():
    from medtl.data.scan import LAYOUTS
    from medtl.engine.pipeline.datasets import CACHE_MODES
    from medtl.engine.training.recipe.optim import OPTIMIZERS
    from medtl.engine.training.recipe.schedule import SCHEDULES
    from medtl.engine.tasks.segmentation import LOSSES
    from medtl.engine.training.recipe.settings import IMBALANCE
    from medtl.engine.training.recipe.strategy import STRATEGIES
    from medtl.evaluate.aggregate import HOW
    from medtl.explain.maps import METHODS
    from medtl.engine.tasks.registry import TASKS

    engine = {"data.layout": LAYOUTS, "data.cache": CACHE_MODES, "train.optimizer": OPTIMIZERS,
              "train.schedule": SCHEDULES, "seg.loss": tuple(LOSSES), "train.imbalance": IMBALANCE,
              "train.strategy": STRATEGIES, "cv.aggregate": HOW, "task": tuple(TASKS)}
    for key, allowed in engine.items():
        assert set(CHOICES[key]) == set(allowed), key
    assert set(METHODS) <= set(CHOICES["explain.method"])


def test_missing_weights_and_data_fail_before_anything_is_built(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDTL_HOME", str(tmp_path / "home"))
    with pytest.raises(MissingWeightsError, match=r"model.weights: medtl:absent: no spec.json"):
        check_ready(ExperimentConfig.from_dict({"model": {"weights": "medtl:absent"}}), needs_data=False)
    with pytest.raises(ConfigError, match=r"model.backbone must be one of .*Got 'resnet99' instead"):
        check_ready(ExperimentConfig.from_dict({"model": {"backbone": "resnet99"}}), needs_data=False)
    with pytest.raises(ConfigError, match=r"model.weights: resnet18: weights must be one of"):
        check_ready(ExperimentConfig.from_dict({"model": {"weights": "medicalnet"}}), needs_data=False)
    with pytest.raises(ConfigError, match="data.root is not set"):
        check_ready(ExperimentConfig.from_dict({}))
    with pytest.raises(ConfigError, match="is not a folder"):
        check_ready(ExperimentConfig.from_dict({"data": {"root": str(tmp_path / "none")}}))
    check_ready(ExperimentConfig.from_dict({"data": {"root": str(tmp_path)}}))


@pytest.mark.gpu
def test_default_device_and_precision_train_in_bf16_on_a_gpu():
    import torch

    from medtl.engine.training.recipe.settings import TrainSettings, autocast_for

    settings = TrainSettings.from_config(ExperimentConfig.from_dict({}))
    assert settings.torch_device.type == "cuda"
    layer = torch.nn.Linear(4, 4).to(settings.torch_device)
    with autocast_for(settings.torch_device, settings.precision):
        out = layer(torch.randn(2, 4, device=settings.torch_device))
    assert out.dtype == (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32)
