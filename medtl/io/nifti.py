"""NIfTI volumes (.nii, .nii.gz) through nibabel, reoriented to closest canonical RAS+ (`medtl.io.orientation`).

Values are scaled by the header's scl_slope/scl_inter (nibabel's get_fdata). A 4D file with a single volume
is squeezed to 3D; other 4D files (time series, multi-volume) raise `ReadError`.
"""
from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from medtl.io.image import ImageData, ImageHeader, ReadError
from medtl.io.meta import image_meta
from medtl.io.orientation import canonical_geometry, to_canonical, voxel_spacing


def read_nifti(path: str | Path) -> ImageData:
    """A NIfTI volume as float32 in canonical RAS+ with its voxel->RAS affine.

    Example:
        >>> from nibabel.testing import data_path
        >>> image = read_nifti(f"{data_path}/anatomical.nii")
        >>> image.array.shape, nib.aff2axcodes(image.affine)
        ((33, 41, 25), ('R', 'A', 'S'))
    """
    img = _load(path)
    try:
        array = img.get_fdata(dtype=np.float32)
    except Exception as err:  # truncated or damaged data surfaces as zlib, gzip, EOF or numpy errors
        raise ReadError(path, f"cannot read the voxel data ({type(err).__name__}: {err})") from err
    array, affine = to_canonical(array.reshape(_volume_shape(img, path)), img.affine)
    return ImageData(array, affine, voxel_spacing(affine), image_meta(path, "nifti"))


def nifti_header(path: str | Path) -> ImageHeader:
    """Canonical shape and spacing of a NIfTI volume, from its header only.

    Example:
        >>> from nibabel.testing import data_path
        >>> nifti_header(f"{data_path}/anatomical.nii").shape
        (33, 41, 25)
    """
    img = _load(path)
    shape, affine = canonical_geometry(_volume_shape(img, path), img.affine)
    return ImageHeader(str(path), "nifti", shape, voxel_spacing(affine))


def _load(path: str | Path) -> nib.Nifti1Image | nib.Nifti2Image:
    try:
        img = nib.load(path)
    except Exception as err:  # nibabel reports bad files with many exception types
        raise ReadError(path, f"not a readable NIfTI file ({type(err).__name__}: {err})") from err
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise ReadError(path, f"a {type(img).__name__}, not a NIfTI volume")
    return img


def _volume_shape(img: nib.Nifti1Image | nib.Nifti2Image, path: str | Path) -> tuple[int, ...]:
    shape = tuple(int(n) for n in img.shape)
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) != 3:
        raise ReadError(path, f"expected a 3D volume, got shape {shape}; select one volume of a 4D series first")
    return shape
