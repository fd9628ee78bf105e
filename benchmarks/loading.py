"""Benchmark 1, volume loading: `medtl.io.read_image`, and medtl's disk cache on a second pass, against the
MONAI tutorial way to get the same canonical array: LoadImage + EnsureChannelFirst + Orientation("RAS").

Volumes are oblique (stored left/posterior-first), so both sides must really reorient; the arrays are checked
to agree before anything is timed.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import torch
from monai import transforms as T

from benchmarks.measure import Ratio, heading, interleaved_medians
from medtl.data import scan_folder
from medtl.engine.pipeline.datasets import CaseCache
from medtl.engine.pipeline.transforms import LoadCased
from medtl.io import read_image
from medtl.synth import make_mri

SHAPE = (128, 128, 64)
NIFTI_VOLUMES = 10
DICOM_SERIES = 4
REPEATS = 5
UNCACHED_GOAL = 3.0
CACHED_GOAL = 20.0
FLOORS = {"NIfTI": "zlib inflate alone", "DICOM": "pydicom dcmread of the files alone"}


def monai_loader() -> Callable[[str], torch.Tensor]:
    """What MONAI's tutorials compose to read a volume as a channel-first RAS array.

    Example:
        >>> monai_loader()("brain.nii.gz").shape  # doctest: +SKIP
        torch.Size([1, 128, 128, 64])
    """
    return T.Compose([T.LoadImage(image_only=True), T.EnsureChannelFirst(), T.Orientation(axcodes="RAS")])


def check_agreement(paths: list[str], load: Callable[[str], torch.Tensor]) -> str:
    """Raise `AssertionError` naming the first volume where medtl's and MONAI's arrays differ; else a summary.

    Example:
        >>> check_agreement(paths, monai_loader())  # doctest: +SKIP
        '10 volumes agree: shape (128, 128, 64), allclose after orientation'
    """
    for path in paths:
        ours, theirs = read_image(path).array, np.asarray(load(path))[0]
        if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=1e-5, atol=1e-3):
            raise AssertionError(f"{path}: medtl gives {ours.shape}, MONAI {theirs.shape}; the arrays differ")
    return f"{len(paths)} volumes agree: shape {ours.shape}, allclose after orientation"


def floor_work(label: str, path: str) -> object:
    """What any reader of `path` must do at least: inflate the gzip stream of a NIfTI file (zlib, one call), or
    parse every file of a DICOM series with pydicom; no pixels are converted, ordered or reoriented.

    Example:
        >>> len(floor_work("NIfTI", "brain.nii.gz"))  # doctest: +SKIP
        2097504
    """
    if label == "NIfTI":
        return zlib.decompress(Path(path).read_bytes(), wbits=31)
    return [pydicom.dcmread(file) for file in sorted(Path(path).iterdir())]


def touched(array: np.ndarray | torch.Tensor) -> float:
    """The sum of every value, so each reader's array is really in memory (the disk cache maps its files and
    reads pages only when they are used).

    Example:
        >>> touched(np.ones((2, 2)))
        4.0
    """
    return float(array.sum())


def _volume_paths(root: Path) -> list[str]:
    return [str(p) for p in scan_folder(root, layout="csv").df["image"]]


def _compare_format(label: str, paths: list[str], cache_dir: Path) -> list[Ratio]:
    load = monai_loader()
    print(f"  {label}: {check_agreement(paths, load)}")
    cache = CaseCache([{"image": p} for p in paths], T.Compose([LoadCased(("image",))]), cache_dir=cache_dir,
                      progress=False)
    candidates = {
        "medtl read_image": lambda: [touched(read_image(p).array) for p in paths],
        "MONAI LoadImage+EnsureChannelFirst+Orientation": lambda: [touched(load(p)) for p in paths],
        # The warm-up call builds the disk cache; the timed calls read it.
        "medtl disk cache (2nd pass)": lambda: [touched(cache[i]["image"]) for i in range(len(cache))],
    }
    candidates[FLOORS[label]] = lambda: [floor_work(label, p) for p in paths]
    times = interleaved_medians(candidates, repeats=REPEATS)
    for name, seconds in times.items():
        print(f"  {label} {name:<48} {1000 * seconds / len(paths):8.1f} ms/volume")
    monai = times["MONAI LoadImage+EnsureChannelFirst+Orientation"]
    return [
        Ratio(f"{label} ceiling: MONAI LoadImage / {FLOORS[label]}", monai / times[FLOORS[label]], None,
              higher_is_better=True),
        Ratio(f"{label} read_image vs MONAI LoadImage (speed-up)", monai / times["medtl read_image"],
              UNCACHED_GOAL, higher_is_better=True),
        Ratio(f"{label} disk cache 2nd pass vs MONAI LoadImage (speed-up)",
              monai / times["medtl disk cache (2nd pass)"], CACHED_GOAL, higher_is_better=True),
    ]


def run(workdir: Path) -> list[Ratio]:
    """Generate the volumes under `workdir`, check agreement, time both readers; returns, per format, the
    ceiling any reader could reach (for context), the uncached and the cached speed-ups.

    Example:
        >>> [r.name for r in run(Path(tempfile.mkdtemp()))][0]  # doctest: +SKIP
        'NIfTI read_image vs MONAI LoadImage (speed-up)'
    """
    heading(f"1. volume loading: {NIFTI_VOLUMES} NIfTI volumes and {DICOM_SERIES} DICOM series of {SHAPE}, "
            f"median of {REPEATS}")
    nifti = make_mri(workdir / "nifti", patients=NIFTI_VOLUMES, shape=SHAPE, volumes_per_patient=(1, 1),
                     oblique=True)
    dicom = make_mri(workdir / "dicom", patients=DICOM_SERIES, shape=SHAPE, volumes_per_patient=(1, 1),
                     fmt="dicom", oblique=True)
    return [*_compare_format("NIfTI", _volume_paths(nifti), workdir / "nifti_cache"),
            *_compare_format("DICOM", _volume_paths(dicom), workdir / "dicom_cache")]
