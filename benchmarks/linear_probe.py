"""Benchmark 3, linear probe against full fine-tuning: wall time of `train` under each strategy, with the demo's
training settings (configs/demo_xray.yaml), and the AUC each model reaches on held-out patients.
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
from medtl.engine.datasets import CaseCache
from medtl.engine.loop import class_weights, predict_proba, train
from medtl.engine.settings import TrainSettings
from medtl.engine.setup import Pipelines, build_model, case_cache
from medtl.evaluate import auc_value, make_splits
from medtl.models import cached_weights

PATIENTS = 40  # two images each
SOURCE_SIZE = 256
FOLDS = 4  # one fold (a quarter of the patients) is held out
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


def fit_and_score(cfg: ExperimentConfig, cache: CaseCache, train_rows: np.ndarray, held_out: np.ndarray,
                  y: np.ndarray, n_classes: int) -> tuple[float, float]:
    """Train a fresh model as `cfg` says; returns (training seconds, held-out image-level AUC).

    Example:
        >>> seconds, auc = fit_and_score(cfg, cache, rows[:60], rows[60:], y, 2)  # doctest: +SKIP
    """
    pipes, settings = Pipelines.from_config(cfg), TrainSettings.from_config(cfg)
    torch.manual_seed(cfg["seed"])
    model = build_model(cfg, n_classes)
    start = time.perf_counter()
    train(model, cache.subset(train_rows, pipes.train), settings, head=model.spec.classifier,
          loss_weights=class_weights(y[train_rows], n_classes), progress=False)
    seconds = time.perf_counter() - start
    proba = predict_proba(model, cache.subset(held_out, pipes.eval), settings)
    return seconds, auc_value(y[held_out], proba)


def run(workdir: Path) -> list[Ratio]:
    """Fit both strategies on the same patients; returns the wall-time ratio.

    Example:
        >>> run(Path(tempfile.mkdtemp()))[0].name  # doctest: +SKIP
        'linear probe / full fine-tune (training wall time)'
    """
    weights = pretrained_weights()
    demo = ExperimentConfig.packaged("demo_xray.yaml").with_overrides(["train.device=cpu", f"model.weights={weights}"])
    heading(f"3. linear probe vs full fine-tune: demo settings ({demo['model.backbone']} at "
            f"{demo['transforms.input_size']}, {demo['train.epochs']} epochs, batch {demo['train.batch_size']}), "
            f"weights {weights}, {PATIENTS * 2} X-rays, 1 of {FOLDS} patient folds held out")
    if weights == "none":
        print("  (no cached source model: run `make demo` first for pretrained features; the probe sees random ones)")
    cohort = Cohort.xray(workdir / "xray", patients=PATIENTS, size=SOURCE_SIZE)
    fold_of = make_splits(cohort.table, folds=FOLDS, seed=demo["seed"]).fold_of(cohort.table)
    train_rows, held_out = np.flatnonzero(fold_of != 0), np.flatnonzero(fold_of == 0)
    y = np.array(cohort.labels)
    cache = case_cache(demo, cohort.items, Pipelines.from_config(demo), progress=False)
    scores = {}
    for strategy, repeats in (("linear_probe", PROBE_REPEATS), ("full", 1)):
        cfg = demo.with_overrides([f"train.strategy={strategy}"])
        runs = [fit_and_score(cfg, cache, train_rows, held_out, y, len(cohort.classes)) for _ in range(repeats)]
        scores[strategy] = statistics.median(r[0] for r in runs), runs[-1][1]
        print(f"  {strategy:<14} {scores[strategy][0]:7.2f} s to train on {len(train_rows)} images"
              f"{f' (median of {repeats})' if repeats > 1 else ''};  held-out AUC {scores[strategy][1]:.3f} "
              f"({len(held_out)} images)")
    return [Ratio("linear probe / full fine-tune (training wall time)",
                  scores["linear_probe"][0] / scores["full"][0], GOAL, higher_is_better=False)]
