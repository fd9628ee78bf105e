"""`run_cv`: patient-grouped cross-validation of a fine-tuned classifier, writing the run folder."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors.torch import save_file

from medtl.config import ExperimentConfig
from medtl.data import scan_folder, summarize
from medtl.data.case_table import CaseTable
from medtl.engine.checkpoint import remove_checkpoint
from medtl.engine.datasets import case_items
from medtl.engine.explain_run import explain_with_fold_models, top_cases
from medtl.engine.imbalance import balancing
from medtl.engine.labels import resolve_classes
from medtl.engine.loop import predict_proba, train
from medtl.engine.predictions import prediction_frame
from medtl.engine.run_folder import RunFolder
from medtl.engine.settings import TrainSettings
from medtl.engine.setup import Pipelines, build_model, case_cache
from medtl.engine.training_plots import plot_history
from medtl.engine.validation import auc_validation, best_epoch_note, validation_rows
from medtl.evaluate import Splits, check_leakage, format_summary, make_splits, summarize_cv
from medtl.report import write_report


@dataclass
class CVResult:
    """What a cross-validated run produced: its folder, the pooled summary and the out-of-fold predictions.

    Example:
        >>> result = run_cv(cfg, "runs/exp")  # doctest: +SKIP
        >>> result.pooled_auc                 # doctest: +SKIP
        0.83
    """

    run_dir: Path
    summary: dict[str, Any]
    oof: pd.DataFrame

    @property
    def pooled_auc(self) -> float:
        """Pooled out-of-fold ROC AUC at patient level (classification runs)."""
        return float(self.summary["pooled"]["patient"]["auc"])

    @property
    def headline(self) -> str:
        """The run's main number in words: pooled patient-level AUC with its CI, or mean patient Dice.

        Example:
            >>> CVResult(Path("r"), {"pooled": {"patient": {"auc": 0.8, "bootstrap_ci": [0.7, 0.9]}}}, None).headline
            'pooled out-of-fold patient-level AUC 0.800 (95% CI 0.700-0.900)'
        """
        if "pooled" not in self.summary:
            return f"out-of-fold patient-level Dice {self.summary['patient']['dice']['mean']:.3f}"
        lo, hi = self.summary["pooled"]["patient"]["bootstrap_ci"]
        return f"pooled out-of-fold patient-level AUC {self.pooled_auc:.3f} (95% CI {lo:.3f}-{hi:.3f})"


def load_table(cfg: ExperimentConfig) -> CaseTable:
    """Scan `data.root` with the configured layout.

    Example:
        >>> load_table(ExperimentConfig.from_dict({"data": {"root": "data/xray"}}))  # doctest: +SKIP
        CaseTable(96 cases, 40 patients, classes=['nodule', 'normal'])
    """
    if not cfg["data.root"]:
        raise ValueError(f"{cfg.source}: data.root is not set; point it at the folder of images to use")
    return scan_folder(cfg["data.root"], layout=cfg["data.layout"], manifest=cfg["data.manifest"])


def run_cv(
    cfg: ExperimentConfig,
    out: str | Path,
    overwrite: bool = False,
    table: CaseTable | None = None,
    splits: Splits | None = None,
    progress: bool = True,
    resume: bool = False,
) -> CVResult:
    """Scan, split by patient, fine-tune one model per fold, predict every case with the model that never saw
    its patient, summarise with confidence intervals, explain a few cases, and write the per-patient report.

    `splits` reuses the folds of another run (e.g. a from-scratch baseline on identical folds). `resume`
    continues an interrupted run in `out` (same config required): finished folds are kept, the fold in progress
    restarts after its last checkpointed epoch. A config with `task: segmentation` runs
    `medtl.engine.segmentation.run_seg_cv` instead.

    Example:
        >>> cfg = ExperimentConfig.from_yaml("configs/demo_xray.yaml")  # doctest: +SKIP
        >>> run_cv(cfg, "runs/demo").pooled_auc                        # doctest: +SKIP
    """
    if cfg["task"] == "segmentation":
        from medtl.engine.segmentation import run_seg_cv  # imported here: it imports this module

        if resume:
            raise ValueError("resume applies to classification runs; rerun this segmentation run with --overwrite")
        return run_seg_cv(cfg, out, overwrite=overwrite, table=table, splits=splits, progress=progress)
    run = RunFolder(out).resume(cfg) if resume else RunFolder(out).create(overwrite)
    cfg.to_yaml(run.config)
    table = table if table is not None else load_table(cfg)
    table.to_csv(run.cases)
    table.problems_to_csv(run.root / "scan_problems.csv")  # the files left out, and why
    say(progress, summarize(table))
    classes, positive = resolve_classes(table, cfg["data.positive_label"])
    seed = cfg["seed"]
    if resume and run.splits.is_file():
        splits = Splits.from_json(run.splits)
    splits = splits or make_splits(table, folds=cfg["cv.folds"], seed=seed)
    check_leakage(splits, table)
    splits.to_json(run.splits)
    fold_of = splits.fold_of(table)

    settings = TrainSettings.from_config(cfg)
    pipes = Pipelines.from_config(cfg)
    items = case_items(table, classes, with_mask=False)
    cache = case_cache(cfg, items, pipes, progress)
    y = np.array([item["y"] for item in items])

    frames = []
    for k in range(int(fold_of.max()) + 1):
        train_rows, val_rows = np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)
        finished = run.fold(k) / "val_predictions.csv"
        if resume and finished.is_file():
            frames.append(pd.read_csv(finished, dtype={"case_id": str, "patient_id": str, "label": str}))
            say(progress, f"fold {k + 1}: already finished, kept")
            continue
        fit_rows, check_rows = validation_rows(table, train_rows, settings.val_fraction, seed + k)
        validation = auc_validation(cache.subset(check_rows, pipes.eval), settings, table, check_rows, classes,
                                    positive, cfg["cv.aggregate"]) if len(check_rows) else None
        balance = balancing(settings.imbalance, y[fit_rows], len(classes))
        torch.manual_seed(seed + k)
        model = build_model(cfg, len(classes))
        history = train(model, cache.subset(fit_rows, pipes.train), settings, head=model.spec.classifier,
                        loss_weights=balance.loss_weights, sample_weights=balance.sample_weights, progress=progress,
                        desc=f"fold {k + 1}/{fold_of.max() + 1}", seed=seed + k, checkpoint=run.fold(k),
                        validation=validation, log_dir=run.root / "tensorboard" / f"fold_{k}")
        proba = predict_proba(model, cache.subset(val_rows, pipes.eval), settings)
        frame = prediction_frame(table, val_rows, proba, classes, k)
        save_fold(run.fold(k), model, history, frame)
        remove_checkpoint(run.fold(k))
        frames.append(frame)
        say(progress, f"fold {k + 1}: {len(fit_rows)} train / {len(check_rows)} validation / {len(val_rows)} "
                       f"held-out cases, final loss {history['loss'].iloc[-1]:.3f}{best_epoch_note(history)}")

    oof = pd.concat(frames).sort_values("case_id").reset_index(drop=True)
    oof.to_csv(run.oof, index=False)
    summary = summarize_cv(oof, classes, positive, aggregate_how=cfg["cv.aggregate"])
    run.summary.write_text(json.dumps(summary, indent=2))
    say(progress, format_summary(summary))
    target = positive or classes[-1]
    explain_with_fold_models(cfg, run, table, oof, classes, target, pipes, cache,
                             top_cases(oof, target, cfg["explain.cases"]), cfg["explain.method"])
    write_report(run.root)
    return CVResult(run.root, summary, oof)


def save_fold(folder: Path, model: torch.nn.Module, history: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Write a fold's model (safetensors), training history (history.csv and history.png), held-out predictions
    and weight-loading report."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, folder / "model.safetensors")
    history.to_csv(folder / "history.csv", index=False)
    plot_history(history, folder / "history.png")
    frame.to_csv(folder / "val_predictions.csv", index=False)
    if model.load_report is not None:
        (folder / "load_report.json").write_text(model.load_report.to_json())


def say(enabled: bool, text: str) -> None:
    """Print a progress line when `enabled`."""
    if enabled:
        print(text, flush=True)
