"""`medtl compare RUN_A RUN_B`: paired patient-level AUC comparison of two runs made on the same splits."""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from medtl.config_choices import CHOICES

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `medtl compare`.

    Example:
        >>> from medtl.cli.main import build_parser
        >>> build_parser().parse_args(["compare", "runs/a", "runs/b", "--n-boot", "500"]).n_boot
        500
    """
    parser = subparsers.add_parser(
        "compare", help="paired comparison of two runs' patient-level AUCs (DeLong test + patient bootstrap)",
        description="Compare two cross-validated runs made on identical patient folds (e.g. pretrained vs "
                    "from scratch): both pooled out-of-fold patient-level AUCs with CIs, their difference with a "
                    "paired patient-bootstrap CI and DeLong's paired test.")
    parser.add_argument("run_a", type=Path, metavar="RUN_A", help="first run folder")
    parser.add_argument("run_b", type=Path, metavar="RUN_B", help="second run folder (same splits.json)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file to write (default: RUN_A/compare_<name of RUN_B>.json)")
    parser.add_argument("--aggregate", choices=CHOICES["cv.aggregate"], default=None,
                        help="image -> patient probability (default: as recorded in RUN_A/cv_summary.json, else mean)")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the comparison table and write it as JSON (runs made on different splits are refused)."""
    from medtl.evaluate.compare import compare_runs
    from medtl.evaluate.tables import format_comparison

    result = compare_runs(args.run_a, args.run_b, aggregate_how=args.aggregate, n_boot=args.n_boot, seed=args.seed)
    out = args.out or args.run_a / f"compare_{args.run_b.resolve().name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(format_comparison(result))
    log.info(f"wrote {out}")
    return 0
