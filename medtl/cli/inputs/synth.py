"""`medtl synth xray|mri OUT`: write a synthetic cohort and say what was written."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `synth` with its `xray` and `mri` sub-commands.

    Example:
        >>> parser = argparse.ArgumentParser(); add_parser(parser.add_subparsers())
        >>> parser.parse_args(["synth", "mri", "out", "--patients", "4"]).fmt
        'nifti'
    """
    parser = subparsers.add_parser("synth", help="write a synthetic cohort (chest X-rays or brain MRI)")
    kinds = parser.add_subparsers(dest="kind", required=True)
    xray = kinds.add_parser("xray", help="chest-X-ray phantoms, normal vs nodule (or the 4-class source task)")
    _add_common(xray, default_patients=40, formats=("dicom", "png"))
    xray.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    xray.add_argument("--task", choices=("nodule", "source"), default="nodule",
                      help="nodule: normal/nodule; source: normal/cardiomegaly/effusion/mass/granuloma (default nodule)")
    mri = kinds.add_parser("mri", help="brain-MRI phantoms, normal vs lesion")
    _add_common(mri, default_patients=12, formats=("nifti", "dicom"))
    mri.add_argument("--oblique", action="store_true", help="write rotated, non-RAS affines")
    mri.add_argument("--task", choices=("lesion", "source"), default="lesion",
                     help="lesion: normal/lesion; source: normal/atrophy/hypointense/mass/small_lesions (default lesion)")
    mri.add_argument("--style", choices=("medtl", "second"), default="medtl",
                     help="lesion task: medtl (T1-like, round lesions) or second (T2-like, fainter irregular lesions)")
    parser.set_defaults(func=run)


def _add_common(parser: argparse.ArgumentParser, default_patients: int, formats: tuple[str, ...]) -> None:
    parser.add_argument("out", type=Path, help="folder to write (new, empty, or an earlier synthetic cohort)")
    parser.add_argument("--patients", type=int, default=default_patients,
                        help=f"number of patients (default {default_patients})")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same files")
    parser.add_argument("--format", dest="fmt", choices=formats, default=formats[0],
                        help=f"file format (default {formats[0]})")


def run(args: argparse.Namespace) -> int:
    """Write the cohort and print images and patients per label (bad arguments or a folder that holds other
    files raise, and `medtl` reports them).

    Example:
        >>> import tempfile
        >>> ns = argparse.Namespace(kind="mri", out=Path(tempfile.mkdtemp()), patients=2, seed=0, fmt="nifti",
        ...                         oblique=False, task="lesion", style="medtl")
        >>> run(ns)  # doctest: +ELLIPSIS
        wrote ...
        0
    """
    import pandas as pd

    from medtl.api import run_synth

    options = {"size": args.size, "task": args.task} if args.kind == "xray" else {"oblique": args.oblique, "task": args.task,
                                                                             "style": args.style}
    out = run_synth(args.kind, args.out, patients=args.patients, seed=args.seed, fmt=args.fmt, **options)
    cases = pd.read_csv(out / "cases.csv", dtype=str)
    noun = "images" if args.kind == "xray" else "volumes"
    print(f"wrote {len(cases)} {noun} of {cases['patient_id'].nunique()} patients ({args.fmt}) to {out}")
    for label, group in cases.groupby("label"):
        print(f"  {label:<13} {group['patient_id'].nunique():>4} patients {len(group):>5} {noun}")
    print(f"  case list: {out / 'cases.csv'}   findings: {out / 'findings.json'}")
    return 0
