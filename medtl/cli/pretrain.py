"""`medtl pretrain CONFIG [--set key=value ...] [--as NAME] [--overwrite]`: source pretraining into the cache."""
from __future__ import annotations

import argparse

from medtl.cli.common import add_config_arguments, load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pretrain", help="train a backbone on a source set and store it as medtl:<name>")
    add_config_arguments(p)
    p.add_argument("--as", dest="name", help="cache entry name (default: pretrain.name)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing cache entry")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.engine.pretrain import pretrain

    path = pretrain(load_config(args), name=args.name, overwrite=args.overwrite)
    print(f"stored {path}")
    return 0
