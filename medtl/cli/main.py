"""The `medtl` command: one sub-command per module in `medtl.cli`, each exposing `add_parser(subparsers)`."""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("synth", "scan", "train", "cv", "explain", "report", "demo", "weights", "pretrain", "compare", "predict",
            "lr_find", "export")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered.

    Example:
        >>> build_parser().parse_args(["synth", "xray", "out"]).command
        'synth'
    """
    parser = argparse.ArgumentParser(prog="medtl", description="Transfer learning for medical images.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"medtl.cli.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `medtl` console script; returns the exit code (2 for bad input, named on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"medtl {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
