"""The synthetic data the training benchmarks share, and the engine configuration they train with."""
from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pydicom
from scipy import ndimage

from medtl.config import ExperimentConfig
from medtl.data import scan_folder
from medtl.data.case_table import CaseTable
from medtl.engine.pipeline.datasets import case_items
from medtl.engine.tasks.labels import resolve_classes
from medtl.synth import make_mri, make_xray


@dataclass
class Cohort:
    """A generated cohort on disk: its case table, classes and the per-case items the engine reads.

    Example:
        >>> cohort = Cohort.xray(tmp_path / "xray", patients=4, size=32)  # doctest: +SKIP
        >>> len(cohort.items), cohort.classes                             # doctest: +SKIP
        (8, ['normal', 'nodule'])
    """

    table: CaseTable
    classes: list[str]
    items: list[dict[str, Any]]

    @classmethod
    def from_folder(cls, root: Path) -> "Cohort":
        """Scan a folder written by `medtl.synth` (its cases.csv)."""
        table = scan_folder(root, layout="csv")
        classes, _ = resolve_classes(table, None)
        return cls(table, classes, case_items(table, classes, with_mask=False))

    @classmethod
    def xray(cls, folder: Path, patients: int, size: int) -> "Cohort":
        """Chest X-rays (DICOM), `size`^2, two per patient."""
        return cls.from_folder(make_xray(folder, patients=patients, size=size, images_per_patient=(2, 2)))

    @classmethod
    def upscaled(cls, cohort_root: Path, folder: Path, size: int) -> "Cohort":
        """A copy of the X-ray cohort at `cohort_root` with every image resized to `size`^2 (bilinear, pixel
        spacing scaled to match): the detector sizes of real chest X-rays, without rendering the phantoms
        again at that size. The lesion masks are left out."""
        shutil.copytree(cohort_root, folder, ignore=shutil.ignore_patterns("masks"))
        manifest = folder / "cases.csv"
        pd.read_csv(manifest).drop(columns="mask").to_csv(manifest, index=False)
        for path in folder.rglob("*.dcm"):
            ds = pydicom.dcmread(path)
            pixels = ds.pixel_array
            factor = size / pixels.shape[0]
            ds.PixelData = ndimage.zoom(pixels, (factor, size / pixels.shape[1]), order=1).tobytes()
            ds.Rows = ds.Columns = size
            for tag in ("PixelSpacing", "ImagerPixelSpacing"):
                if tag in ds:
                    setattr(ds, tag, [float(v) / factor for v in ds[tag].value])
            ds.save_as(path)
        return cls.from_folder(folder)

    @classmethod
    def mri(cls, folder: Path, patients: int, shape: tuple[int, int, int]) -> "Cohort":
        """Brain MRI volumes (NIfTI) of `shape`, one per patient."""
        return cls.from_folder(make_mri(folder, patients=patients, shape=shape, volumes_per_patient=(1, 1)))

    @property
    def paths(self) -> list[str]:
        return [item["image"] for item in self.items]

    @property
    def labels(self) -> list[int]:
        return [item["y"] for item in self.items]


def engine_config(backbone: str, input_size: Sequence[int], **train: Any) -> ExperimentConfig:
    """A classification config for `backbone` at `input_size`, random init, in-memory cache, on the CPU unless
    `train` (any `train.*` keys) says otherwise.

    Example:
        >>> engine_config("resnet18", (64, 64), epochs=1)["train.epochs"]
        1
    """
    return ExperimentConfig.from_dict({
        "model": {"backbone": backbone, "weights": "none"},
        "transforms": {"input_size": list(input_size)},
        "data": {"cache": "memory"},
        "train": {"device": "cpu", **train},
    })
