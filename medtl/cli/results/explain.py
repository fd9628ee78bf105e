"""`medtl explain RUN [--cases ID ...] [--method M]`: saliency for cases of a finished run."""
from __future__ import annotations

import argparse

from medtl.config_choices import CHOICES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="saliency maps for cases of a finished `medtl cv` run")
    p.add_argument("run", help="run folder")
    p.add_argument("--cases", nargs="+", help="case ids (default: the run's highest-scoring cases)")
    p.add_argument("--method", choices=CHOICES["explain.method"], help="default: the run's explain.method")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.engine.workflows.explain_run import explain_run

    summary = explain_run(args.run, args.cases, args.method, progress=args.progress)
    hits = summary["pointing_game_hit_rate"]
    print(f"explained {summary['n_cases']} case(s) with {summary['method']} into {args.run}/explain/"
          + ("" if hits is None else f"; pointing game {hits:.2f} (chance {summary['pointing_game_chance']:.3f})")
          + f"; {summary['n_degenerate']} map(s) flagged as no evidence")
    return 0
