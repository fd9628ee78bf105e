"""`medtl explain RUN`: saliency for chosen cases of a finished cross-validated classification run."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.engine.pipeline.datasets import case_items
from medtl.engine.tasks.fold_saliency import explain_with_fold_models, top_cases
from medtl.engine.training.setup import Pipelines, case_cache
from medtl.run_folder import RunFolder, target_class


def explain_run(run_dir: str | Path, case_ids: Sequence[str] | None = None, method: str | None = None,
                progress: bool = False) -> dict[str, Any]:
    """Explain cases of a finished run (default: its `explain.cases` highest-scoring ones) with `method`
    (default: the run's `explain.method`); returns the written explain/summary.json.

    Example:
        >>> explain_run("runs/demo", ["P001_01"], method="gradcampp")["n_cases"]  # doctest: +SKIP
        1
    """
    run = RunFolder(run_dir)
    for path in (run.config, run.cases, run.oof, run.summary):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing; is {run.root} a finished `medtl cv` classification run?")
    cfg = ExperimentConfig.from_yaml(run.config)
    summary = json.loads(run.summary.read_text())
    classes = list(summary["classes"])
    target = target_class(classes, summary.get("positive"))
    oof = pd.read_csv(run.oof, dtype={"case_id": str, "patient_id": str, "label": str})
    table = CaseTable.from_csv(run.cases)
    chosen = list(case_ids) if case_ids else top_cases(oof, target, cfg["explain.cases"])
    table = table.subset(table.df["case_id"].isin(chosen).to_numpy())
    pipes = Pipelines.from_config(cfg)
    cache = case_cache(cfg, case_items(table, classes, with_mask=False), pipes, progress)
    return explain_with_fold_models(cfg, run, table, oof, classes, target, pipes, cache, chosen,
                                    method or cfg["explain.method"])
