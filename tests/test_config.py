import pytest

from medtl.config import ConfigError, ExperimentConfig


def test_defaults_overrides_and_resolved_copy(tmp_path):
    cfg = ExperimentConfig.from_dict({"train": {"epochs": 2}}).with_overrides(["cv.folds=3", "transforms.input_size=[32, 32]"])
    assert (cfg["train.epochs"], cfg["cv.folds"], cfg["transforms.input_size"]) == (2, 3, [32, 32])
    again = ExperimentConfig.from_yaml(cfg.to_yaml(tmp_path / "config.yaml"))
    assert again.data == cfg.data


def test_inherits_reads_parent_first(tmp_path):
    (tmp_path / "base.yaml").write_text("seed: 7\ntrain:\n  epochs: 9\n  lr: 0.01\n")
    (tmp_path / "child.yaml").write_text("inherits: base.yaml\ntrain:\n  epochs: 3\n")
    cfg = ExperimentConfig.from_yaml(tmp_path / "child.yaml")
    assert (cfg["seed"], cfg["train.epochs"], cfg["train.lr"]) == (7, 3, 0.01)


def test_unknown_key_is_named_with_a_suggestion(tmp_path):
    (tmp_path / "bad.yaml").write_text("train:\n  epoch: 3\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: unknown config key 'train.epoch'.*'train.epochs'"):
        ExperimentConfig.from_yaml(tmp_path / "bad.yaml")


def test_wrong_type_and_bad_set_syntax():
    with pytest.raises(ConfigError, match="'train.epochs' must be a int"):
        ExperimentConfig.from_dict({"train": {"epochs": "many"}})
    with pytest.raises(ConfigError, match="key=value"):
        ExperimentConfig.from_dict({}).with_overrides(["train.epochs"])


def test_inherits_cycle_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("inherits: b.yaml\n")
    (tmp_path / "b.yaml").write_text("inherits: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        ExperimentConfig.from_yaml(tmp_path / "a.yaml")
