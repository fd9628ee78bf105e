"""`medtl report RUN [--pseudonymize KEY]`: the per-patient report of a finished run, as static HTML/CSV/JSON."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write reports/ (index.html, one page per patient, patients.csv/json)")
    p.add_argument("run", help="run folder")
    p.add_argument("--pseudonymize", metavar="KEY", help="replace patient and case ids by a hash keyed with KEY")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.report import write_report

    print(f"wrote {write_report(args.run, pseudonymize_key=args.pseudonymize)}")
    return 0
