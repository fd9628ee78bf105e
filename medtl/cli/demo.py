"""`medtl demo [--out DIR]`: the whole job on synthetic chest X-rays, pretrained vs from scratch."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="synthetic chest X-rays: source pretraining, fine-tune, CV, Grad-CAM, report")
    p.add_argument("--out", default="runs/demo", help="run folder (default: runs/demo)")
    p.add_argument("--patients", type=int, default=40, help="target-set patients (default: 40)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of configs/demo_xray.yaml (repeatable)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.demo import run_demo

    run_demo(args.out, patients=args.patients, seed=args.seed, overrides=args.overrides, overwrite=args.overwrite)
    return 0
