"""From DICOM slice geometry to a 3D volume: the one place where slices are ordered and the affine is built.

Used by both DICOM series (one slice per file) and multi-frame files (one slice per frame).
Slices are sorted along the slice normal, cross(row direction, column direction) from ImageOrientationPatient,
by the projection of ImagePositionPatient on it -- never by file name or InstanceNumber. The step along z is
the median distance between neighbouring slices: a gap over 1.5x that step means missing slices (`ReadError`),
steps that vary by more than 1% otherwise give a warning. DICOM's patient frame is LPS; the affine is built
there, converted to RAS and the volume reoriented to closest canonical RAS+ (see `medtl.io.orientation`).
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from medtl.io.dicom.dicom_tags import frame_count, functional_item, pixel_spacing
from medtl.errors import ReadError
from medtl.io.orientation import canonical_geometry, to_canonical

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
MISSING_SLICE_FACTOR = 1.5
UNEVEN_TOLERANCE = 0.01


@dataclass(frozen=True)
class SliceGeometry:
    """Where one 2D slice (a file or a frame) sits in the patient's LPS frame.

    `position` is ImagePositionPatient (centre of the first pixel, mm), `orientation` ImageOrientationPatient
    (row direction then column direction), `spacing` (between rows, between columns) in mm, `shape` (rows, cols).

    Example:
        >>> SliceGeometry((0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), (1.0, 1.0), (16, 16)).normal.tolist()
        [0.0, 0.0, 1.0]
    """

    position: tuple[float, float, float]
    orientation: tuple[float, ...]
    spacing: tuple[float, float]
    shape: tuple[int, int]

    @property
    def normal(self) -> np.ndarray:
        return np.cross(self.orientation[:3], self.orientation[3:])


def slice_geometry(ds: Dataset) -> SliceGeometry | None:
    """The geometry of a single-slice dataset, or None when it lacks position, orientation or pixel spacing.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> from medtl.io.dicom.dicom_tags import read_dataset
        >>> slice_geometry(read_dataset(get_testdata_file("CT_small.dcm"), with_pixels=False)).shape
        (128, 128)
    """
    spacing = pixel_spacing(ds)
    if ds.get("ImagePositionPatient") is None or ds.get("ImageOrientationPatient") is None or spacing is None:
        return None
    return _geometry(ds.ImagePositionPatient, ds.ImageOrientationPatient, spacing, ds)


def frame_geometries(ds: Dataset) -> list[SliceGeometry] | None:
    """One geometry per frame of a multi-frame dataset, from the enhanced functional groups
    (PlanePositionSequence, PlaneOrientationSequence, PixelMeasuresSequence) or from ImagePositionPatient plus
    GridFrameOffsetVector; None when the frames have no positions.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> from medtl.io.dicom.dicom_tags import read_dataset
        >>> len(frame_geometries(read_dataset(get_testdata_file("rtdose.dcm"), with_pixels=False)))
        15
    """
    frames = frame_count(ds)
    if ds.get("PerFrameFunctionalGroupsSequence"):
        geometries = []
        for frame in range(frames):
            position = functional_item(ds, frame, "PlanePositionSequence")
            orientation = functional_item(ds, frame, "PlaneOrientationSequence")
            measures = functional_item(ds, frame, "PixelMeasuresSequence")
            spacing = pixel_spacing(measures) if measures is not None else None
            if position is None or orientation is None or spacing is None:
                return None
            iop = orientation.ImageOrientationPatient
            geometries.append(_geometry(position.ImagePositionPatient, iop, spacing, ds))
        return geometries
    base = slice_geometry(ds)
    offsets = ds.get("GridFrameOffsetVector")
    if base is None or offsets is None or len(offsets) != frames:
        return None
    # GridFrameOffsetVector is relative to the first frame, or absolute along the normal; differences serve both.
    shifts = [float(o) - float(offsets[0]) for o in offsets]
    return [replace(base, position=tuple(np.add(base.position, s * base.normal).tolist())) for s in shifts]


def stack_volume(
    frames: Sequence[np.ndarray] | np.ndarray,
    geometries: Sequence[SliceGeometry],
    path: str | Path,
    series_uid: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stack 2D frames (rows, cols), a list or one (frames, rows, cols) array, into a canonical RAS+ float32
    volume and its voxel->RAS affine.

    `path` (the file or folder) and `series_uid` name the source in error messages.

    Example:
        >>> iop = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
        >>> geoms = [SliceGeometry((0.0, 0.0, float(z)), iop, (1.0, 1.0), (2, 3)) for z in (2, 0, 1)]
        >>> vol, aff = stack_volume([np.full((2, 3), z, np.float32) for z in (2, 0, 1)], geoms, "a.dcm")
        >>> vol.shape, vol[0, 0, :].tolist()
        ((3, 2, 3), [0.0, 1.0, 2.0])
    """
    order, affine = _stacked_affine(geometries, path, series_uid)
    volume = np.asarray(frames, dtype=np.float32)[order].transpose(2, 1, 0)  # (slice, row, col) -> (col, row, slice)
    return to_canonical(volume, affine)


def stacked_geometry(
    geometries: Sequence[SliceGeometry], path: str | Path, series_uid: str | None = None
) -> tuple[tuple[int, ...], np.ndarray]:
    """The canonical shape and affine `stack_volume` would give, without any pixels.

    Example:
        >>> iop = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
        >>> geoms = [SliceGeometry((0.0, 0.0, 2.0 * z), iop, (1.0, 1.0), (2, 3)) for z in range(4)]
        >>> stacked_geometry(geoms, "a.dcm")[0]
        (3, 2, 4)
    """
    _, affine = _stacked_affine(geometries, path, series_uid)
    rows, cols = geometries[0].shape
    return canonical_geometry((cols, rows, len(geometries)), affine)


def _geometry(position: Sequence, orientation: Sequence, spacing: tuple[float, float], ds: Dataset) -> SliceGeometry:
    shape = (int(ds.Rows), int(ds.Columns))
    return SliceGeometry(tuple(float(v) for v in position), tuple(float(v) for v in orientation), spacing, shape)


def _stacked_affine(
    geometries: Sequence[SliceGeometry], path: str | Path, series_uid: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Slice order along the normal and the voxel->RAS affine for voxel order (column, row, slice)."""

    def error(reason: str) -> ReadError:
        return ReadError(path, f"series {series_uid}: {reason}" if series_uid is not None else reason)

    if len(geometries) < 2:
        raise error(f"a volume needs at least two slices; found {len(geometries)}")
    first = geometries[0]
    for name in ("orientation", "spacing", "shape"):
        values = np.array([getattr(g, name) for g in geometries], dtype=np.float64)
        odd = np.flatnonzero(~np.isclose(values, values[0], atol=1e-4).all(axis=1))
        if odd.size:
            raise error(f"slices differ in {name}: {getattr(first, name)} and {getattr(geometries[odd[0]], name)}")
    normal = first.normal
    projections = np.array([g.position for g in geometries]) @ normal
    order = np.argsort(projections, kind="stable")
    steps = np.diff(projections[order])
    if steps.min() < 1e-3:
        raise error(f"{int((steps < 1e-3).sum())} slice(s) share a position with another slice "
                    "(several echoes, phases or acquisitions in one series?)")
    step = float(np.median(steps))
    if steps.max() > MISSING_SLICE_FACTOR * step:
        at = int(np.argmax(steps))
        raise error(f"missing slice(s): a {steps[at]:.4g} mm gap after slice {at + 1} of {len(geometries)}, "
                    f"where slices are {step:.4g} mm apart")
    if steps.max() - steps.min() > UNEVEN_TOLERANCE * step:
        message = f"slice spacing varies from {steps.min():.4g} to {steps.max():.4g} mm; using the median {step:.4g} mm"
        warnings.warn(str(error(message)), stacklevel=3)
    lps = np.eye(4)
    lps[:3, 0] = np.asarray(first.orientation[:3]) * first.spacing[1]
    lps[:3, 1] = np.asarray(first.orientation[3:]) * first.spacing[0]
    lps[:3, 2] = normal * step
    lps[:3, 3] = geometries[order[0]].position
    return order, LPS_TO_RAS @ lps
