"""A run and its from-scratch baseline on identical patient folds, with their paired comparison."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from medtl.config import ExperimentConfig
from medtl.engine.workflows.cv import CVResult, run_cv
from medtl.engine.training.distributed import barrier, is_main_process
from medtl.evaluate import Splits, compare_runs, format_comparison

BASELINE_FOLDER = "baseline_scratch"


def scratch_config(cfg: ExperimentConfig, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """`cfg` from random weights, every layer trained, named `<name>_scratch`, then `overrides` applied.

    Example:
        >>> scratch_config(ExperimentConfig.packaged("demo_xray.yaml"))["model.weights"]
        'none'
    """
    return cfg.with_overrides(["model.weights=none", "train.strategy=full", f"name={cfg['name']}_scratch", *overrides])


def run_with_scratch_baseline(cfg: ExperimentConfig, out: str | Path, overwrite: bool = False, progress: bool = True,
                              scratch_overrides: Sequence[str] = ()) -> tuple[CVResult, CVResult, dict[str, Any]]:
    """Cross-validate `cfg` into `out`, then the same backbone with `model.weights=none` on the same splits
    into `out/baseline_scratch`, and compare them (paired DeLong test and bootstrap CI of the AUC difference,
    written to `out/compare_baseline_scratch.json`). The baseline trains every layer (`train.strategy=full`):
    a frozen random backbone would be a straw man, not training from scratch. `scratch_overrides` change
    the baseline's config further, for a model a cohort cannot train from scratch (a lesion detector needs voxel labels).

    Example:
        >>> run, scratch, comparison = run_with_scratch_baseline(cfg, "runs/cxr")  # doctest: +SKIP
        >>> comparison["delong"]["p_value"]                                         # doctest: +SKIP
    """
    out = Path(out)
    pretrained = run_cv(cfg, out, overwrite=overwrite, progress=progress)
    scratch = run_cv(scratch_config(cfg, scratch_overrides), out / BASELINE_FOLDER, splits=Splits.from_json(out / "splits.json"),
                     progress=progress)
    written = out / f"compare_{BASELINE_FOLDER}.json"
    if is_main_process():
        written.write_text(json.dumps(compare_runs(out, out / BASELINE_FOLDER), indent=2) + "\n")
    barrier()  # under torchrun, rank 0 alone compares and writes
    comparison = json.loads(written.read_text())
    if progress and is_main_process():
        print(format_comparison(comparison))
    return pretrained, scratch, comparison
