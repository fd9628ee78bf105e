"""`medtl demo [--out DIR] [--seeds N]`: the whole job on synthetic chest X-rays, pretrained vs from scratch."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="synthetic chest X-rays: source pretraining, fine-tune, CV, Grad-CAM, report")
    p.add_argument("--out", default="runs/demo", help="run folder (default: runs/demo)")
    p.add_argument("--patients", type=int, default=40, help="target-set patients (default: 40)")
    p.add_argument("--seed", type=int, default=0, help="target set (and training) seed; the first one with --seeds")
    p.add_argument("--seeds", type=int, default=1,
                   help="repeat on N independent target sets, each in OUT/seed-<k>, and tabulate them "
                        "(OUT/transfer_seeds.json; default 1)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of configs/demo_xray.yaml (repeatable)")
    p.add_argument("--overwrite", action="store_true", help="replace existing run folders")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.demo import run_demo, run_demo_seeds

    if args.seeds < 1:
        raise ValueError(f"--seeds must be at least 1. Got {args.seeds} instead.")
    if args.seeds == 1:
        run_demo(args.out, patients=args.patients, seed=args.seed, overrides=args.overrides, overwrite=args.overwrite)
    else:
        run_demo_seeds(args.out, seeds=args.seeds, patients=args.patients, first_seed=args.seed,
                       overrides=args.overrides, overwrite=args.overwrite)
    return 0
