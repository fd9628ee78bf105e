"""`medtl cv CONFIG [--set key=value ...] [--out DIR] [--overwrite]`: cross-validate a fine-tuned model."""
from __future__ import annotations

import argparse
import logging

from medtl.cli.common import add_config_arguments

log = logging.getLogger(__name__)


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
    from medtl.api import run_cv

    result = run_cv(args.config, args.out, overrides=args.overrides, overwrite=args.overwrite, resume=args.resume,
                    baseline=args.baseline, progress=args.progress)
    print(f"{result.headline}   run folder: {result.run_dir}")
    if args.baseline:
        log.info(f"from scratch: {result.run_dir}/baseline_scratch; comparison: "
                 f"{result.run_dir}/compare_baseline_scratch.json")
    return 0
