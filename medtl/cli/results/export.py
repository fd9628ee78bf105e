"""`medtl export RUN_OR_MODEL --format onnx|torchscript|bundle [--out DIR]`."""
from __future__ import annotations

import argparse

from medtl.config_choices import EXPORT_FORMATS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `medtl export`.

    Example:
        >>> parser = argparse.ArgumentParser(prog="medtl")
        >>> add_parser(parser.add_subparsers())
        >>> parser.parse_args(["export", "runs/demo", "--format", "onnx"]).format
        'onnx'
    """
    parser = subparsers.add_parser("export", help="write a trained model as ONNX, TorchScript or a MONAI bundle")
    parser.add_argument("model", metavar="RUN_OR_MODEL",
                        help="a `medtl train` run, a `medtl cv` run (its folds as one averaging graph) or model.safetensors")
    parser.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    parser.add_argument("--out", default=None, help="output folder (default RUN/export-<format>)")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier export in the folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export and print where the model and its model.json went."""
    from medtl.export import export_model

    path = export_model(args.model, args.format, args.out, args.overwrite)
    print(f"exported {args.format}: {path}\nsidecar: {path.parent if args.format != 'bundle' else path.parent.parent}/model.json")
    return 0
