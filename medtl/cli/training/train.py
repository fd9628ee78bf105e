"""`medtl train CONFIG [--set key=value ...] [--out DIR] [--overwrite] [--resume]`: one model on all cases.

Runs as is on one process, or data-parallel: `torchrun --nproc_per_node N -m medtl train CONFIG`.
"""
from __future__ import annotations

import argparse

from medtl.cli.common import add_config_arguments, load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fine-tune one model on every case (DDP under torchrun)")
    add_config_arguments(p)
    p.add_argument("--out", help="run folder (default: runs/<name>_final)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its last epoch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.api import default_out, run_train
    from medtl.engine.training.distributed import is_main_process

    cfg = load_config(args)
    out = args.out or default_out(cfg, "train")
    clf = run_train(cfg, out, overwrite=args.overwrite, resume=args.resume, progress=args.progress)
    if is_main_process():
        print(f"trained {cfg['model.backbone']} on classes {clf.classes_}; final loss "
              f"{clf.history_['loss'].iloc[-1]:.3f}; model in {out}/model.safetensors")
    return 0
