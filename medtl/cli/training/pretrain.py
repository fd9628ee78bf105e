"""`medtl pretrain CONFIG [--set key=value ...] [--as NAME] [--overwrite]`: source pretraining into the cache."""
from __future__ import annotations

import argparse
import logging

from medtl.cli.common import add_config_arguments

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pretrain", help="train a backbone on a source set and store it as medtl:<name>")
    add_config_arguments(p)
    p.add_argument("--as", dest="name", help="cache entry name (default: pretrain.name)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing cache entry")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.api import run_pretrain

    path = run_pretrain(args.config, overrides=args.overrides, name=args.name, overwrite=args.overwrite,
                        progress=args.progress)
    log.info(f"stored {path}")
    return 0
