"""Benchmark 3, linear probe against full fine-tuning: wall time of a patient-grouped cross-validation under each
strategy (training and held-out prediction of every fold), with the demo's training settings
(configs/demo_xray.yaml), and the out-of-fold AUC each reaches. A probe runs the frozen backbone once per case
over the whole cross-validation (`medtl.engine.pipeline.frozen_features`); a full fine-tune trains it in every fold.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.cohorts import Cohort
from benchmarks.measure import Ratio, heading
from medtl.config import ExperimentConfig
from medtl.engine.pipeline.datasets import CaseCache
from medtl.engine.pipeline.frozen_features import FrozenFeatures
from medtl.engine.tasks.imbalance import class_weights
from medtl.engine.training.loop import predict_proba, train
from medtl.engine.training.objective import FitContext, Objective
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.engine.training.setup import Pipelines, build_model, case_cache
from medtl.evaluate import auc_value, make_splits
from medtl.models import cached_weights

PATIENTS = 40  # two images each
SOURCE_SIZE = 256
PROBE_REPEATS = 5
GOAL = 1 / 50
SOURCE_MODEL = "synth-cxr-resnet18"


def pretrained_weights() -> str:
    """The demo's source model when `make demo` has cached it, else "none" (random features).

    Example:
        >>> pretrained_weights() in ("medtl:synth-cxr-resnet18", "none")
        True
    """
    return f"medtl:{SOURCE_MODEL}" if SOURCE_MODEL in {w["name"] for w in cached_weights()} else "none"


def cross_validate(cfg: ExperimentConfig, cache: CaseCache, fold_of: np.ndarray, y: np.ndarray,
                   n_classes: int) -> tuple[list[float], float]:
    """Every fold as `run_cv` runs it: a fresh model trained on the other folds, then its held-out
    probabilities. Returns (seconds of training and prediction per fold, pooled out-of-fold image-level AUC).

    Example:
        >>> seconds, auc = cross_validate(cfg, cache, fold_of, y, 2)  # doctest: +SKIP
    """
    pipes, settings = Pipelines.from_config(cfg), TrainSettings.from_config(cfg)
    cache.frozen = FrozenFeatures()  # every repeat starts with no stored features
    proba, seconds = np.zeros((len(y), n_classes)), []
    for k in range(int(fold_of.max()) + 1):
        train_rows, held_out = np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)
        torch.manual_seed(cfg["seed"] + k)
        model = build_model(cfg, n_classes)
        start = time.perf_counter()
        train(model, cache.subset(train_rows, pipes.train), settings, head=model.spec.classifier,
              objective=Objective(loss_weights=class_weights(y[train_rows], n_classes)), progress=False,
              context=FitContext(seed=cfg["seed"] + k))
        proba[held_out] = predict_proba(model, cache.subset(held_out, pipes.eval), settings)
        seconds.append(time.perf_counter() - start)
    return seconds, auc_value(y, proba)


def run(workdir: Path) -> list[Ratio]:
    """Cross-validate with both strategies on the same patients and folds; returns the wall-time ratios of the
    whole cross-validation (the goal) and of its first fold alone.

    Example:
        >>> run(Path(tempfile.mkdtemp()))[0].name  # doctest: +SKIP
        'linear probe / full fine-tune, 5-fold CV (training + prediction wall time)'
    """
    weights = pretrained_weights()
    demo = ExperimentConfig.packaged("demo_xray.yaml").with_overrides(["train.device=cpu", f"model.weights={weights}"])
    folds = demo["cv.folds"]
    heading(f"3. linear probe vs full fine-tune: demo settings ({demo['model.backbone']} at "
            f"{demo['transforms.input_size']}, {demo['train.epochs']} epochs, batch {demo['train.batch_size']}), "
            f"weights {weights}, {PATIENTS * 2} X-rays, {folds}-fold patient-grouped CV")
    if weights == "none":
        print("  (no cached source model: run `make demo` first for pretrained features; the probe sees random ones)")
    cohort = Cohort.xray(workdir / "xray", patients=PATIENTS, size=SOURCE_SIZE)
    fold_of = make_splits(cohort.table, folds=folds, seed=demo["seed"]).fold_of(cohort.table)
    y = np.array(cohort.labels)
    cache = case_cache(demo, cohort.items, Pipelines.from_config(demo), progress=False)
    cv_seconds, first_fold = {}, {}
    for strategy, repeats in (("linear_probe", PROBE_REPEATS), ("full", 1)):
        cfg = demo.with_overrides([f"train.strategy={strategy}"])
        runs = [cross_validate(cfg, cache, fold_of, y, len(cohort.classes)) for _ in range(repeats)]
        cv_seconds[strategy] = statistics.median(sum(r[0]) for r in runs)
        first_fold[strategy] = statistics.median(r[0][0] for r in runs)
        per_fold = ", ".join(f"{s:.2f}" for s in runs[-1][0])
        print(f"  {strategy:<14} {cv_seconds[strategy]:7.2f} s for {folds} folds ({per_fold} s)"
              f"{f', median of {repeats}' if repeats > 1 else ''};  out-of-fold AUC {runs[-1][1]:.3f}")
    return [Ratio(f"linear probe / full fine-tune, {folds}-fold CV (training + prediction wall time)",
                  cv_seconds["linear_probe"] / cv_seconds["full"], GOAL, higher_is_better=False),
            Ratio("linear probe / full fine-tune, first fold alone (training + prediction wall time)",
                  first_fold["linear_probe"] / first_fold["full"], None, higher_is_better=False)]
