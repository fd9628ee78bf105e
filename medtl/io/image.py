"""The two values every reader returns: decoded pixels (`ImageData`) and header-only facts (`ImageHeader`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medtl.errors import ReadError


@dataclass(frozen=True)
class Problem:
    """A file a scan could not use, and why (unreadable, not an image, duplicate, ...).

    Example:
        >>> Problem("notes.txt", "not an image").reason
        'not an image'
    """

    path: str
    reason: str


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

    @property
    def spatial_dims(self) -> int:
        return len(self.shape)
