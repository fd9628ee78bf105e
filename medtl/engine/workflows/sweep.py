"""`medtl sweep`: a grid of cross-validated runs on identical patient folds, one run folder per grid point,
compared with a chosen baseline by paired DeLong tests.

Under `torchrun` the grid points are spread over the ranks (rank r runs points r, r + N, ...; each as a
single-process run on its own GPU when there are GPUs); rank 0 waits for every rank, then compares. The run
folders must therefore lie on a file system every rank writes to (one machine, or a shared `--out`).

Layout of `OUT`: `<point>/` (a `medtl cv` run folder each), `sweep_summary.json` (schema `medtl.sweep/1`: grid,
baseline, one entry per run with its pooled patient AUC and, against the baseline, the `medtl.compare/1` result)
and `sweep.csv` (the printed table).
"""
from __future__ import annotations

import itertools
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from medtl.config import ExperimentConfig
from medtl.engine.workflows.cv import load_table, run_cv
from medtl.evaluate import compare_runs, make_splits
from medtl.evaluate.tables import format_ci, format_number

SCHEMA = "medtl.sweep/1"
# Keys that would change the cases or the folds: runs that differ in them cannot be compared case by case.
FIXED_KEYS = ("data.", "cv.folds", "task")


@dataclass(frozen=True)
class GridPoint:
    """One run of a sweep: its config overrides and the name of its run folder.

    Example:
        >>> GridPoint(("train.lr=0.01",), "lr-0.01").overrides
        ('train.lr=0.01',)
    """

    overrides: tuple[str, ...]
    name: str


def parse_grid(specs: list[str]) -> dict[str, list[str]]:
    """`["key=v1,v2", ...]` as {key: [v1, v2]}; commas inside brackets belong to their value (`[64,64]`).

    Example:
        >>> parse_grid(["train.lr=0.001,0.01", "transforms.input_size=[64,64],[96,96]"])
        {'train.lr': ['0.001', '0.01'], 'transforms.input_size': ['[64,64]', '[96,96]']}
    """
    grid: dict[str, list[str]] = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise ValueError(f"--grid expects key=value1,value2,...; got {spec!r}")
        if key in grid:
            raise ValueError(f"--grid names {key!r} twice; give all its values in one --grid {key}=v1,v2")
        if key.startswith(FIXED_KEYS[0]) or key in FIXED_KEYS[1:]:
            raise ValueError(f"--grid {key}: a sweep compares runs on the same cases and folds, so it cannot "
                             f"vary {', '.join(FIXED_KEYS)}*")
        grid[key] = [v.strip() for v in re.split(r",(?![^\[]*\])", values) if v.strip()]
    if not grid:
        raise ValueError("a sweep needs at least one --grid key=value1,value2")
    return grid


def grid_points(grid: dict[str, list[str]]) -> list[GridPoint]:
    """Every combination of the grid's values, the first key varying slowest; folder names from the last part
    of each key and its value ("lr-0.01_strategy-full").

    Example:
        >>> [p.name for p in grid_points({"train.lr": ["0.1", "0.01"], "train.strategy": ["full"]})]
        ['lr-0.1_strategy-full', 'lr-0.01_strategy-full']
    """
    points = []
    for values in itertools.product(*grid.values()):
        overrides = tuple(f"{key}={value}" for key, value in zip(grid, values))
        name = "_".join(f"{key.rsplit('.', 1)[-1]}-{re.sub(r'[^A-Za-z0-9._]+', '-', value).strip('-')}"
                        for key, value in zip(grid, values))
        points.append(GridPoint(overrides, name))
    names = [p.name for p in points]
    if len(set(names)) < len(names):
        raise ValueError(f"the grid gives two runs the same folder name among {names}; use distinct values")
    return points


def choose_baseline(points: list[GridPoint], assignments: list[str] | None) -> GridPoint:
    """The grid point whose overrides include every `key=value` of `assignments` (it must be one); the first
    point when there are none.

    Example:
        >>> points = grid_points({"train.lr": ["0.1", "0.01"]})
        >>> choose_baseline(points, ["train.lr=0.01"]).name
        'lr-0.01'
    """
    if not assignments:
        return points[0]
    wanted = {a.replace(" ", "") for a in assignments}
    matching = [p for p in points if wanted <= {o.replace(" ", "") for o in p.overrides}]
    if len(matching) != 1:
        raise ValueError(f"--baseline {' '.join(assignments)} matches {len(matching)} grid points "
                         f"({', '.join(p.name for p in matching) or 'none'}); name one of: "
                         f"{', '.join(p.name for p in points)} by its key=value settings")
    return matching[0]


def rank_share(points: list[GridPoint], rank: int, world: int) -> list[GridPoint]:
    """The grid points rank `rank` of `world` runs: `rank`, `rank + world`, ...

    Example:
        >>> [p.name for p in rank_share(grid_points({"seed": ["0", "1", "2"]}), 1, 2)]
        ['seed-1']
    """
    return points[rank::world]


def run_sweep(cfg: ExperimentConfig, grid: dict[str, list[str]], out: str | Path, baseline: list[str] | None = None,
              overwrite: bool = False, progress: bool = True) -> pd.DataFrame | None:
    """Cross-validate `cfg` with every grid point's overrides on the same patient folds, each into
    `out/<point>`, then compare every run with the baseline point; returns the comparison table (None on
    ranks other than 0) and writes `sweep_summary.json` and `sweep.csv`.

    Example:
        >>> table = run_sweep(cfg, {"train.lr": ["0.001", "0.01"]}, "runs/lr-sweep")  # doctest: +SKIP
    """
    if cfg["task"] != "classification":
        raise ValueError("medtl sweep compares classification runs (paired DeLong tests of their AUCs); "
                         f"this config has task {cfg['task']!r}")
    points = grid_points(grid)
    chosen = choose_baseline(points, baseline)
    out = Path(out)
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    table = load_table(cfg)
    splits = make_splits(table, folds=cfg["cv.folds"], seed=cfg["seed"])
    _use_own_gpu()
    with _single_process():
        for point in rank_share(points, rank, world):
            if progress:
                print(f"sweep: {point.name} ({' '.join(point.overrides)})", flush=True)
            run_cfg = cfg.with_overrides([*point.overrides, f"name={cfg['name']}-{point.name}"])
            run_cv(run_cfg, out / point.name, overwrite=overwrite, table=table, splits=splits, progress=progress)
    if world > 1:
        _wait_for_every_rank()
    if rank != 0:
        return None
    return _compare(points, chosen, grid, out, progress)


def _compare(points: list[GridPoint], baseline: GridPoint, grid: dict[str, list[str]], out: Path,
             progress: bool) -> pd.DataFrame:
    runs, rows = [], []
    for point in points:
        summary = json.loads((out / point.name / "cv_summary.json").read_text())["pooled"]["patient"]
        entry: dict[str, Any] = {"name": point.name, "overrides": list(point.overrides), "auc": summary["auc"],
                                 "bootstrap_ci": summary["bootstrap_ci"], "comparison": None}
        row = {"run": point.name, "auc": summary["auc"], "ci": format_ci(summary["bootstrap_ci"]),
               "vs_baseline": None, "diff_ci": None, "delong_p": None}
        if point != baseline:
            entry["comparison"] = compare_runs(out / point.name, out / baseline.name)
            diff = entry["comparison"]["difference"]
            row.update(vs_baseline=diff["auc"], diff_ci=format_ci(diff["delong_ci"]), delong_p=diff["p_value"])
        runs.append(entry)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.to_csv(out / "sweep.csv", index=False)
    (out / "sweep_summary.json").write_text(json.dumps(
        {"schema": SCHEMA, "grid": grid, "baseline": baseline.name, "runs": runs}, indent=2) + "\n")
    if progress:
        print(f"\n{format_sweep(frame, baseline.name)}")
    return frame


def format_sweep(frame: pd.DataFrame, baseline: str) -> str:
    """The comparison table `medtl sweep` prints: per run its pooled patient AUC with 95% bootstrap CI and,
    against the baseline, the AUC difference with DeLong's 95% CI and p-value.

    Example:
        >>> frame = pd.DataFrame([{"run": "lr-0.1", "auc": 0.8, "ci": "[0.700, 0.900]", "vs_baseline": None,
        ...     "diff_ci": None, "delong_p": None}])
        >>> print(format_sweep(frame, "lr-0.1").splitlines()[-1])
        lr-0.1  0.800  [0.700, 0.900]  baseline
    """
    width = max(len("run"), *(len(r) for r in frame["run"]))
    lines = [f"Sweep of {len(frame)} runs on identical patient folds; pooled out-of-fold patient-level AUC, paired "
             f"DeLong test against {baseline}",
             f"{'run':<{width}}  {'AUC':>5}  {'95% CI':<14}  {'vs baseline':>11}  {'95% CI (DeLong)':<16}  "
             f"{'DeLong p':>8}"]
    for r in frame.itertuples():
        head = f"{r.run:<{width}}  {format_number(r.auc):>5}  {r.ci:<14}"
        if r.run == baseline:
            lines.append(f"{head}  baseline")
            continue
        p_value = "n/a" if pd.isna(r.delong_p) else f"{r.delong_p:.4f}"
        lines.append(f"{head}  {format_number(r.vs_baseline, signed=True):>11}  {r.diff_ci:<16}  {p_value:>8}")
    return "\n".join(lines)


@contextmanager
def _single_process() -> Iterator[None]:
    """Each rank's runs are single-process runs: torchrun's WORLD_SIZE and RANK are hidden while they train."""
    saved = {key: os.environ.get(key) for key in ("WORLD_SIZE", "RANK")}
    os.environ.update(WORLD_SIZE="1", RANK="0")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _use_own_gpu() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())


def _wait_for_every_rank() -> None:
    """Meet every rank once all have finished their runs (the rendezvous of a gloo process group), then part."""
    import torch.distributed as dist

    dist.init_process_group("gloo", timeout=timedelta(days=30))  # ranks' shares may differ by hours
    dist.barrier()
    dist.destroy_process_group()
