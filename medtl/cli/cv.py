"""`medtl cv CONFIG [--set key=value ...] [--out DIR] [--overwrite]`: cross-validate a fine-tuned model."""
from __future__ import annotations

import argparse

from medtl.cli.common import add_config_arguments, load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cv", help="patient-grouped cross-validation of a fine-tuned backbone")
    add_config_arguments(p)
    p.add_argument("--out", help="run folder (default: runs/<name>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in --out from its last finished fold and epoch")
    p.add_argument("--baseline", choices=["scratch"], help="also train from scratch on identical folds and compare")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.engine.baseline import run_with_scratch_baseline
    from medtl.engine.cv import run_cv

    cfg = load_config(args)
    out = args.out or f"runs/{cfg['name']}"
    if args.baseline == "scratch":
        result, scratch, _ = run_with_scratch_baseline(cfg, out, overwrite=args.overwrite)
        print(f"{cfg['model.weights']}: {result.headline}\nscratch: {scratch.headline}\nrun folder: {result.run_dir}")
        return 0
    result = run_cv(cfg, out, overwrite=args.overwrite, resume=args.resume)
    print(f"{result.headline}   run folder: {result.run_dir}")
    return 0
