"""The synthetic X-ray data the training benchmarks share, and the engine objects built from it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medtl.config import ExperimentConfig
from medtl.data import scan_folder
from medtl.data.case_table import CaseTable
from medtl.engine.datasets import case_items
from medtl.engine.labels import resolve_classes
from medtl.synth import make_xray


@dataclass
class XrayCohort:
    """A generated chest-X-ray cohort (DICOM, two images per patient): its table, classes and engine items.

    Example:
        >>> cohort = XrayCohort.generate(tmp_path / "xray", patients=4, size=32)  # doctest: +SKIP
        >>> len(cohort.items), cohort.classes                                     # doctest: +SKIP
        (8, ['normal', 'nodule'])
    """

    table: CaseTable
    classes: list[str]
    items: list[dict[str, Any]]

    @classmethod
    def generate(cls, folder: str | Path, patients: int, size: int, seed: int = 0) -> "XrayCohort":
        root = make_xray(folder, patients=patients, size=size, images_per_patient=(2, 2), seed=seed)
        table = scan_folder(root, layout="csv")
        classes, _ = resolve_classes(table, None)
        return cls(table, classes, case_items(table, classes, with_mask=False))

    @property
    def paths(self) -> list[str]:
        return [item["image"] for item in self.items]

    @property
    def labels(self) -> list[int]:
        return [item["y"] for item in self.items]


def xray_config(input_size: int, **train: Any) -> ExperimentConfig:
    """A resnet18 classification config at `input_size`^2 on the CPU, in-memory cache, `train.*` overrides.

    Example:
        >>> xray_config(64, epochs=1)["train.epochs"]
        1
    """
    return ExperimentConfig.from_dict({
        "model": {"backbone": "resnet18", "weights": "none"},
        "transforms": {"input_size": [input_size, input_size]},
        "data": {"cache": "memory"},
        "train": {"device": "cpu", **train},
    })
