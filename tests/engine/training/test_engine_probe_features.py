import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from medtl.config import ExperimentConfig
from medtl.engine.workflows.cohort import load_table
from medtl.engine.workflows.cv import run_cv
from medtl.engine.pipeline.datasets import CaseCache, case_items
from medtl.engine.pipeline.frozen_features import FrozenFeatures
from medtl.engine.tasks.labels import resolve_classes
from medtl.engine.training.loop import predict_proba
from medtl.engine.training.model_files import load_fold_model
from medtl.engine.workflows.predict_run import predict
import medtl.engine.training.probe as probe
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.engine.training.setup import Pipelines, build_model
from medtl.synth import make_xray


def rows_as_features(calls):
    def compute(rows):
        calls.append(list(rows))
        return torch.tensor(rows, dtype=torch.float32)[:, None].repeat(1, 3)
    return compute


def test_stored_features_are_computed_once_per_row_and_dropped_for_another_backbone_or_transform():
    model, store, calls = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2)), FrozenFeatures(), []
    store.features(model, "1", [0, 1, 2], "eval", rows_as_features(calls))
    out = store.features(model, "1", [2, 3, 0], "eval", rows_as_features(calls))
    assert calls == [[0, 1, 2], [3]] and out[:, 0].tolist() == [2.0, 3.0, 0.0]

    twin = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2))
    twin.load_state_dict(model.state_dict())
    twin[1].weight.data.fill_(5.0)  # another head: the backbone is still the same
    assert store.holds(twin, "1", "eval")
    store.features(twin, "1", [1], "eval", rows_as_features(calls))
    assert calls == [[0, 1, 2], [3]]

    with torch.no_grad():
        twin[0].weight[0, 0] += 1e-3  # one backbone value changed in place, as an optimizer step would
    assert not store.holds(twin, "1", "eval") and not store.holds(model, "1", "train")
    store.features(twin, "1", [1], "eval", rows_as_features(calls))
    assert calls[-1] == [1] and not store.holds(model, "1", "eval")


def counting_backbone_passes(patch, seen):
    """Make every backbone pass of a linear probe add the cache rows it computes to `seen`."""
    run_to_head = probe._run_to_head
    patch.setattr(probe, "_run_to_head", lambda model, head, data, settings: seen.extend(data.rows)
                  or run_to_head(model, head, data, settings))


@pytest.fixture(scope="module")
def probe_cv(tmp_path_factory):
    root = tmp_path_factory.mktemp("probe_cv")
    data = make_xray(root / "data", patients=12, size=32, seed=5)
    base = {"data": {"root": str(data / "images"), "layout": "class-folders"},
            "model": {"backbone": "resnet18", "weights": "none"}, "transforms": {"input_size": [32, 32]}}
    torch.manual_seed(0)
    pretrained = root / "backbone.safetensors"
    save_file(build_model(ExperimentConfig.from_dict(base), 2).state_dict(), pretrained)
    cfg = ExperimentConfig.from_dict({
        **base, "name": "probe",
        "model": {"backbone": "resnet18", "weights": str(pretrained)},
        "train": {"strategy": "linear_probe", "epochs": 3, "batch_size": 8, "lr": 0.05, "val_fraction": 0.25},
        "cv": {"folds": 3}, "explain": {"cases": 1, "target_layer": "layer3"},
    })
    seen = []
    with pytest.MonkeyPatch.context() as patch:
        counting_backbone_passes(patch, seen)
        result = run_cv(cfg, root / "run", progress=False)
    return cfg, result, seen


def full_forward_proba(cfg, run_dir, fold, rows):
    """A saved fold model's probabilities for cache rows, from freshly decoded cases and a whole forward pass."""
    table = load_table(cfg)
    classes, _ = resolve_classes(table, cfg["data.positive_label"])
    pipes, settings = Pipelines.from_config(cfg), TrainSettings.from_config(cfg)
    cache = CaseCache(case_items(table, classes, with_mask=False), pipes.preprocess, progress=False)
    model = load_fold_model(cfg, run_dir, fold, len(classes))
    return predict_proba(model, cache.subset(rows, pipes.eval), settings), classes


def test_a_probe_cv_runs_the_backbone_once_per_case_and_predicts_as_its_fold_models_do(probe_cv):
    cfg, result, seen = probe_cv
    table = load_table(cfg)
    # three folds, inner validation after each of three epochs, held-out predictions: each case once in all
    assert sorted(seen) == list(range(len(table)))
    history = pd.read_csv(result.run_dir / "fold_0" / "history.csv")
    assert history["val_auc"].notna().all()
    for k in range(3):
        fold = result.oof[result.oof["fold"] == k].set_index("case_id")
        rows = np.flatnonzero(table.df["case_id"].isin(fold.index).to_numpy())
        proba, classes = full_forward_proba(cfg, result.run_dir, k, rows)
        expected = pd.Series(proba[:, -1], index=table.df["case_id"].iloc[rows])
        assert np.allclose(expected[fold.index], fold[f"p_{classes[-1]}"], atol=1e-5)


def test_predicting_with_a_probe_cv_ensemble_runs_the_backbone_once_per_case(probe_cv, monkeypatch, tmp_path):
    cfg, result, _ = probe_cv
    seen = []
    counting_backbone_passes(monkeypatch, seen)
    predicted = predict(result.run_dir, cfg["data.root"], tmp_path / "pred", cases=0, progress=False).predictions
    rows = np.arange(len(predicted))
    assert sorted(seen) == list(rows)
    folds = [full_forward_proba(cfg, result.run_dir, k, rows) for k in range(3)]
    classes = folds[0][1]
    ensemble = pd.Series(np.mean([proba[:, -1] for proba, _ in folds], axis=0), index=load_table(cfg).df["case_id"])
    assert np.allclose(ensemble[predicted["case_id"]], predicted[f"p_{classes[-1]}"], atol=1e-5)
