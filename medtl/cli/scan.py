"""`medtl scan ROOT`: print what a dataset folder holds (and what is wrong with it); optionally save the table."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from medtl.config_choices import CHOICES


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `medtl scan`.

    Example:
        >>> from medtl.cli.main import build_parser
        >>> build_parser().parse_args(["scan", "data", "--layout", "msd"]).layout
        'msd'
    """
    parser = subparsers.add_parser(
        "scan", help="scan a dataset folder into a case table and list its problems",
        description="Scan a dataset folder into a case table, print a summary and every problem found "
                    "(the exit code is 0 even when problems are listed).")
    parser.add_argument("root", help="dataset folder")
    parser.add_argument("--layout", choices=CHOICES["data.layout"], default="auto",
                        help="auto: msd if ROOT/dataset.json, csv if ROOT/cases.csv, else class folders")
    parser.add_argument("--manifest", help="CSV with columns path (or image), label, [patient_id], [mask]")
    parser.add_argument("--out", help="write the case table to this CSV")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Scan, print the summary, write the table when asked; 1 on a layout error or a refused overwrite.

    Example:
        >>> args = argparse.Namespace(root="data", layout="auto", manifest=None, out=None, overwrite=False)
        >>> run(args)  # doctest: +SKIP
        0
    """
    if args.out and Path(args.out).exists() and not args.overwrite:
        print(f"medtl scan: {args.out} exists; pass --overwrite to replace it", file=sys.stderr)
        return 1
    from medtl.data.scan import scan_folder
    from medtl.data.summary import summarize

    try:
        table = scan_folder(args.root, layout=args.layout, manifest=args.manifest)
    except ValueError as err:
        print(f"medtl scan: {err}", file=sys.stderr)
        return 1
    print(summarize(table))
    if args.out:
        print(f"wrote {table.to_csv(args.out)}")
    return 0
