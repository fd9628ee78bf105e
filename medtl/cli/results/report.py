"""`medtl report RUN [--pseudonymize | --key-file FILE]`: the per-patient report of a finished run, as static
HTML/CSV/JSON."""
from __future__ import annotations

import argparse
import logging

from medtl.cli.common import add_pseudonymize_arguments, pseudonym_key

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write reports/ (index.html, one page per patient, patients.csv/json)")
    p.add_argument("run", help="run folder")
    add_pseudonymize_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.report import write_report

    log.info(f"wrote {write_report(args.run, pseudonymize_key=pseudonym_key(args))}")
    return 0
