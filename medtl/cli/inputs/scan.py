"""`medtl scan ROOT`: print what a dataset folder holds (and what is wrong with it); optionally save the table."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from medtl.config_choices import CHOICES

PROBLEMS_NAME = "scan_problems.csv"  # beside --out, and in a run folder


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `medtl scan`.

    Example:
        >>> from medtl.cli.main import build_parser
        >>> build_parser().parse_args(["scan", "data", "--layout", "msd"]).layout
        'msd'
    """
    parser = subparsers.add_parser(
        "scan", help="scan a dataset folder into a case table and list its problems",
        description="Scan a dataset folder into a case table, print a summary and the problems found "
                    "(the exit code is 0 even when problems are listed).")
    parser.add_argument("root", help="dataset folder")
    parser.add_argument("--layout", choices=CHOICES["data.layout"], default="auto",
                        help="auto: msd if ROOT/dataset.json, csv if ROOT/cases.csv, else class folders; "
                             "unlabelled: images with no label folders, read as medtl predict reads them")
    parser.add_argument("--manifest", help="CSV with columns path (or image), label, [patient_id], [mask]")
    parser.add_argument("--out", help=f"write the case table to this CSV, and every problem and warning to "
                                      f"{PROBLEMS_NAME} beside it")
    parser.add_argument("--overwrite", action="store_true", help="replace existing --out files")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Scan, print the summary, write the table and its problems when asked; 1 on a layout error or a refused
    overwrite, else 0 (a file that cannot be read is a listed problem, not a failure).

    Example:
        >>> args = argparse.Namespace(root="data", layout="auto", manifest=None, out=None, overwrite=False)
        >>> run(args)  # doctest: +SKIP
        0
    """
    verbose = getattr(args, "log_level", None) == logging.DEBUG  # `medtl scan -v`: every problem and warning
    outputs = [Path(args.out), Path(args.out).with_name(PROBLEMS_NAME)] if args.out else []
    existing = [str(path) for path in outputs if path.exists()]
    if existing and not args.overwrite:
        print(f"medtl scan: {' and '.join(existing)} exist(s); pass --overwrite to replace", file=sys.stderr)
        return 1
    from medtl.data.scan import scan_folder
    from medtl.data.summary import summarize

    try:
        table = scan_folder(args.root, layout=args.layout, manifest=args.manifest)
    except ValueError as err:
        print(f"medtl scan: {err}", file=sys.stderr)
        return 1
    print(summarize(table, verbose=verbose))
    if args.out:
        print(f"wrote {table.to_csv(outputs[0])} and {table.problems_to_csv(outputs[1])} (every problem and warning)")
    elif (table.problems or table.warnings) and not verbose:
        print("every problem and warning: --verbose, or --out FILE for a CSV of them")
    return 0
