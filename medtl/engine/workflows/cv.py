"""`run_cv`: patient-grouped cross-validation of any task (`medtl cv`), writing the run folder."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from medtl.config import ExperimentConfig
from medtl.data import summarize
from medtl.data.case_table import CaseTable
from medtl.engine.workflows.cohort import load_table
from medtl.engine.workflows.console import say
from medtl.engine.training.distributed import barrier, init_from_env, is_main_process
from medtl.engine.workflows.folds import run_folds
from medtl.engine.training.setup import case_cache
from medtl.engine.tasks.registry import make_task
from medtl.evaluate import Splits, check_leakage, make_splits
from medtl.run_folder import RunFolder


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
        """The run's main number in words: pooled patient-level AUC with its CI, macro AUC over findings, or
        mean patient Dice.

        Example:
            >>> CVResult(Path("r"), {"pooled": {"patient": {"auc": 0.8, "bootstrap_ci": [0.7, 0.9]}}}, None).headline
            'pooled out-of-fold patient-level AUC 0.800 (95% CI 0.700-0.900)'
        """
        if self.summary.get("task") == "multilabel":
            lo, hi = self.summary["macro"]["bootstrap_ci"]
            return f"out-of-fold patient-level macro AUC {self.summary['macro']['auc']:.3f} (95% CI {lo:.3f}-{hi:.3f})"
        if "pooled" not in self.summary:
            return f"out-of-fold patient-level Dice {self.summary['patient']['dice']['mean']:.3f}"
        lo, hi = self.summary["pooled"]["patient"]["bootstrap_ci"]
        return f"pooled out-of-fold patient-level AUC {self.pooled_auc:.3f} (95% CI {lo:.3f}-{hi:.3f})"


def run_cv(
    cfg: ExperimentConfig,
    out: str | Path,
    overwrite: bool = False,
    table: CaseTable | None = None,
    splits: Splits | None = None,
    progress: bool = True,
    resume: bool = False,
) -> CVResult:
    """Scan, split by patient, train one model per fold, predict every case with the model that never saw its
    patient, and summarise with confidence intervals; for classification, explain a few cases and write the
    per-patient report. The task (`task:` classification, segmentation or multilabel) says what is trained and
    measured (`medtl.engine.tasks.registry`); every task shares the fold (`medtl.engine.workflows.folds.run_fold`).

    `splits` reuses the folds of another run (e.g. a from-scratch baseline on identical folds). `resume`
    continues an interrupted run in `out` (same config required): finished folds are kept, the fold in progress
    restarts after its last checkpointed epoch. Started by `torchrun`, the folds run concurrently or
    data-parallel as `cv.parallel` says (`medtl.engine.workflows.folds.run_folds`); rank 0 alone writes the run's files,
    summarises, explains and reports.

    Example:
        >>> cfg = ExperimentConfig.from_yaml("configs/demo_xray.yaml")  # doctest: +SKIP
        >>> run_cv(cfg, "runs/demo").pooled_auc                        # doctest: +SKIP
    """
    init_from_env()
    main = is_main_process()
    run = RunFolder(out)
    if main:
        run.resume(cfg) if resume else run.create(overwrite)
        cfg.to_yaml(run.config)
    barrier()  # the folder is ready (and emptied when overwriting) before any rank reads from it
    table = table if table is not None else load_table(cfg)
    task = make_task(cfg, table)
    if main:
        table.to_csv(run.cases)
        table.problems_to_csv(run.root / "scan_problems.csv")  # the files left out, and why
        say(progress, summarize(table))
    if resume and run.splits.is_file():
        splits = Splits.from_json(run.splits)
    splits = splits or make_splits(table, folds=cfg["cv.folds"], seed=cfg["seed"])
    check_leakage(splits, table)
    if main:
        splits.to_json(run.splits)
    cache = case_cache(cfg, task.items, task.pipes, progress and main)
    frames = run_folds(task, run, cache, splits.fold_of(table), resume, progress)
    if main:
        oof = pd.concat(frames).sort_values("case_id").reset_index(drop=True)
        oof.to_csv(run.oof, index=False)
        summary = task.summarize(oof)
        run.summary.write_text(json.dumps(summary, indent=2))
        say(progress, task.format_summary(summary))
        task.finish(run, oof, cache)
    barrier()  # every rank returns the finished run
    if not main:
        summary, oof = run.read_summary(), pd.read_csv(run.oof, dtype=task.fold_dtypes)
    return CVResult(run.root, summary, oof)
