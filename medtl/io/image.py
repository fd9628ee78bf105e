"""The two values every reader returns: decoded pixels (`ImageData`) and header-only facts (`ImageHeader`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

PROBLEM, WARNING = "problem", "warning"


@dataclass(frozen=True)
class Problem:
    """A note on one file of a scan: with severity "problem" a file the scan could not use, and why (unreadable,
    not an image, duplicate, ...); with severity "warning" a file it used, and what a reader said about it.

    Example:
        >>> Problem("notes.txt", "not an image").reason, Problem("a.dcm", "Invalid value", WARNING).is_warning
        ('not an image', True)
    """

    path: str
    reason: str
    severity: str = field(default=PROBLEM, repr=False)

    @property
    def is_warning(self) -> bool:
        return self.severity == WARNING


@dataclass
class ImageData:
    """Decoded pixels plus geometry.

    `array` is float32. 2D images are (rows, cols) as displayed (MONOCHROME1 already inverted).
    3D volumes are (x, y, z) in canonical RAS+ voxel order: axis 0 points to +R, axis 1 to +A, axis 2 to +S
    (nibabel's closest canonical, MONAI's default "RAS").
    `affine` maps voxel indices to world millimetres (RAS); for 2D it maps (row, col, 0) to (row*dy, col*dx, 0).
    `meta` holds: source (path), format ("dicom", "dicom-series", "nifti", "png", "jpeg"), modality,
    patient_id, study_uid, series_uid (None where the format has none).

    Example:
        >>> img = ImageData(np.zeros((4, 5), np.float32), np.eye(4), (1.0, 1.0), {"source": "a.png"})
        >>> img.spatial_dims
        2
    """

    array: np.ndarray
    affine: np.ndarray
    spacing: tuple[float, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def spatial_dims(self) -> int:
        return int(self.array.ndim)


@dataclass
class ImageHeader:
    """What a reader learns without decoding pixels; used by scanning to build a `CaseTable`.

    `path` is the file, or for a DICOM series the folder holding it (with `series_uid` telling which series).
    `channels` is 3 for colour files (read as grey all the same), else 1.

    Example:
        >>> ImageHeader(path="a.png", format="png", shape=(32, 32)).spatial_dims
        2
    """

    path: str
    format: str
    shape: tuple[int, ...]
    spacing: tuple[float, ...] | None = None
    modality: str | None = None
    patient_id: str | None = None
    study_uid: str | None = None
    series_uid: str | None = None
    channels: int = 1

    @property
    def spatial_dims(self) -> int:
        return len(self.shape)
