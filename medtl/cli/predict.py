"""`medtl predict MODEL_OR_RUN DATA [--out DIR] [--overwrite] [--cases N] [--method M] [--threshold T]
[--layout L] [--pseudonymize KEY]`: apply a trained model to new data and write predictions and the report."""
from __future__ import annotations

import argparse

from medtl.cli.explain import METHOD_CHOICES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="apply a trained model (train run, cv run ensemble or model file) to new data")
    p.add_argument("model_or_run", help="`medtl train` run folder, `medtl cv` run folder, or a model.safetensors file")
    p.add_argument("data", help="folder of images/volumes (labels not needed) or a CSV manifest")
    p.add_argument("--out", help="output folder (default: MODEL_OR_RUN/predict-<data name>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    p.add_argument("--cases", type=int, metavar="N", help="saliency maps for the N highest-scoring cases "
                                                          "(default: the model's explain.cases)")
    p.add_argument("--method", choices=METHOD_CHOICES,
                   help="saliency method (default: the model's explain.method)")
    p.add_argument("--threshold", type=float, help="call a patient positive at this probability "
                                                   "(default: the cv run's threshold, 0.5 for a single model)")
    p.add_argument("--layout", default="auto", choices=["auto", "folder", "csv", "class-folders", "msd"],
                   help="how DATA is read (default auto: a CSV file or cases.csv is a manifest, dataset.json is MSD, "
                        "any other folder holds unlabelled images)")
    p.add_argument("--pseudonymize", metavar="KEY", help="replace patient and case ids in reports/ by a hash keyed "
                                                         "with KEY")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from medtl.engine.predict_run import predict

    predict(args.model_or_run, args.data, args.out, layout=args.layout, cases=args.cases, method=args.method,
            threshold=args.threshold, pseudonymize_key=args.pseudonymize, overwrite=args.overwrite)
    return 0
