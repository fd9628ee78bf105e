"""`medtl sweep CONFIG --grid key=v1,v2 [--grid key2=a,b] [--baseline key=value ...] [--out DIR]`: a grid of
cross-validated runs on identical folds, compared with a baseline run by paired DeLong tests."""
from __future__ import annotations

import argparse

from medtl.cli.common import add_config_arguments, load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `medtl sweep`.

    Example:
        >>> from medtl.cli.main import build_parser
        >>> build_parser().parse_args(["sweep", "c.yaml", "--grid", "train.lr=0.1,0.01"]).grid
        ['train.lr=0.1,0.01']
    """
    p = sub.add_parser(
        "sweep", help="a grid of cv runs (backbones, strategies, learning rates) compared with a baseline",
        description="Cross-validate CONFIG once per combination of the --grid values, all on the same patient "
                    "folds, each into its own run folder under --out; then print one table: every run's pooled "
                    "patient-level AUC and its paired DeLong test against the baseline run. Under torchrun the "
                    "runs are spread over the ranks (rank r takes runs r, r+N, ...).")
    add_config_arguments(p)
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="a config key and the values to try, e.g. --grid model.backbone=resnet18,resnet50 "
                        "(repeatable: every combination runs)")
    p.add_argument("--baseline", action="append", default=[], metavar="KEY=VALUE",
                   help="the settings that pick the baseline run, e.g. --baseline train.lr=0.001 (repeatable; "
                        "default: the first combination)")
    p.add_argument("--out", help="folder of the sweep's run folders (default: runs/<name>-sweep)")
    p.add_argument("--overwrite", action="store_true", help="replace existing run folders")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.engine.workflows.sweep import parse_grid, run_sweep

    cfg = load_config(args)
    out = args.out or f"runs/{cfg['name']}-sweep"
    table = run_sweep(cfg, parse_grid(args.grid), out, baseline=args.baseline, overwrite=args.overwrite)
    if table is not None:
        print(f"\nsweep folder: {out} (sweep_summary.json, sweep.csv)")
    return 0
