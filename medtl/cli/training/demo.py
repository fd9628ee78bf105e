"""`medtl demo [xray|mri] [--out DIR] [--seeds N]`: the whole job on synthetic data, pretrained vs from scratch:
chest X-rays (2D classification) or brain MRI (3D classification and segmentation)."""
from __future__ import annotations

import argparse

OUT = {"xray": "runs/demo", "mri": "runs/demo-mri"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="synthetic data: source pretraining, fine-tune, CV pretrained vs scratch, report")
    p.add_argument("task", nargs="?", choices=tuple(OUT), default="xray",
                   help="xray (default): 2D chest X-rays, nodule classification; mri: 3D brain MRI, lesion "
                        "classification and segmentation")
    p.add_argument("--out", default=None, help="run folder (default: runs/demo, runs/demo-mri)")
    p.add_argument("--patients", type=int, default=40, help="target-set patients (default: 40)")
    p.add_argument("--seed", type=int, default=0, help="target set (and training) seed; the first one with --seeds")
    p.add_argument("--seeds", type=int, default=1,
                   help="repeat on N independent target sets, each in OUT/seed-<k>, and tabulate them "
                        "(OUT/transfer_seeds.json; default 1)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the demo's configs (configs/demo_xray.yaml; for mri both "
                        "configs/mri_cls_3d.yaml and configs/mri_seg_3d.yaml) (repeatable)")
    p.add_argument("--overwrite", action="store_true", help="replace existing run folders")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.seeds < 1:
        raise ValueError(f"--seeds must be at least 1. Got {args.seeds} instead.")
    if args.task == "mri":
        from medtl.demo_mri import run_mri_demo as run_one, run_mri_demo_seeds as run_seeds
    else:
        from medtl.demo import run_demo as run_one, run_demo_seeds as run_seeds
    out = args.out or OUT[args.task]
    if args.seeds == 1:
        run_one(out, patients=args.patients, seed=args.seed, overrides=args.overrides, overwrite=args.overwrite)
    else:
        run_seeds(out, seeds=args.seeds, patients=args.patients, first_seed=args.seed, overrides=args.overrides,
                  overwrite=args.overwrite)
    return 0
