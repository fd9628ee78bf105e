"""`medtl lr-find CONFIG [--set key=value ...] [--out DIR]`: the learning-rate range test on a config's data and
model; writes lr_find.csv and lr_find.png and prints the suggested `train.lr`."""
from __future__ import annotations

import argparse

from medtl.cli.common import add_config_arguments, load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lr-find", help="sweep the learning rate over a short run and suggest train.lr")
    add_config_arguments(p)
    p.add_argument("--out", help="folder for lr_find.csv and lr_find.png (default: runs/<name>_lr_find)")
    p.add_argument("--steps", type=int, default=100, help="optimizer steps at most (default: 100)")
    p.add_argument("--start-lr", type=float, default=1e-7, help="first learning rate (default: 1e-7)")
    p.add_argument("--end-lr", type=float, default=10.0, help="last learning rate (default: 10)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.api import default_out, run_lr_find

    cfg = load_config(args)
    out = args.out or default_out(cfg, "lr_find")
    result = run_lr_find(cfg, out, start_lr=args.start_lr, end_lr=args.end_lr, steps=args.steps,
                         progress=args.progress)
    print(f"swept {len(result.lrs)} steps from lr {result.lrs[0]:.1e} to {result.lrs[-1]:.1e}; suggested lr "
          f"{result.suggestion:.1e} (steepest descent; minimum loss / 10: {result.min_loss_lr:.1e}). "
          f"Use it with --set train.lr={result.suggestion:.1e}. Curve: {out}/lr_find.png, {out}/lr_find.csv")
    return 0
