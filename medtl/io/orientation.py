"""Canonical orientation: every 3D volume medtl returns is in nibabel's closest canonical RAS+ voxel order.

Axis 0 of the array points to +R, axis 1 to +A, axis 2 to +S; the affine maps voxel indices to RAS millimetres.
Reorientation only permutes and flips axes (no resampling), exactly as `nibabel.as_closest_canonical` does.
"""
from __future__ import annotations

import nibabel as nib
import numpy as np
from nibabel import orientations


def canonical_geometry(shape: tuple[int, ...], affine: np.ndarray) -> tuple[tuple[int, ...], np.ndarray]:
    """The shape and affine a 3D volume gets once reoriented to closest canonical RAS+ (no pixels needed).

    Example:
        >>> lps = np.diag([-1.0, -1.0, 2.0, 1.0])
        >>> canonical_geometry((4, 5, 6), lps)[1][:3, :3].diagonal().tolist()
        [1.0, 1.0, 2.0]
    """
    ornt = orientations.io_orientation(affine)
    new_shape = tuple(int(shape[int(axis)]) for axis in np.argsort(ornt[:, 0]))
    return new_shape, affine @ orientations.inv_ornt_aff(ornt, shape)


def to_canonical(
    array: np.ndarray, affine: np.ndarray, dtype: np.dtype | type | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Reorient a 3D array and its voxel->RAS affine to closest canonical RAS+ (axes permuted/flipped only).

    The result is a new array of `dtype` (default: the input's) whose memory keeps the input's own order, so the
    copy streams through memory instead of transposing it; its strides are positive but not necessarily C order.

    Example:
        >>> arr, aff = to_canonical(np.arange(6.0).reshape(1, 2, 3), np.diag([-1.0, 1.0, 1.0, 1.0]))
        >>> arr.shape, nib.aff2axcodes(aff)
        ((1, 2, 3), ('R', 'A', 'S'))
    """
    ornt = orientations.io_orientation(affine)
    _, new_affine = canonical_geometry(array.shape, affine)
    return np.array(orientations.apply_orientation(array, ornt), dtype=dtype, order="K"), new_affine


def voxel_spacing(affine: np.ndarray) -> tuple[float, ...]:
    """Voxel sizes in mm along each array axis of a voxel->world affine.

    Example:
        >>> voxel_spacing(np.diag([0.5, 0.5, 3.0, 1.0]))
        (0.5, 0.5, 3.0)
    """
    return tuple(float(v) for v in nib.affines.voxel_sizes(affine))
