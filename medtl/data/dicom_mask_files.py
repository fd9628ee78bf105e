"""A manifest's DICOM SEG or RTSTRUCT mask, converted once to a file every later stage reads like any mask:
NIfTI for a volume, PNG for a 2D image, on the image's own grid, kept in `$MEDTL_HOME/cache/masks/` under a
name that hashes the mask file, the chosen segment and the image (so a changed file is converted again)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import nibabel as nib
import numpy as np
from PIL import Image

from medtl.data.duplicates import file_sha1
from medtl.io import read_image
from medtl.io.dicom.dicom_masks import is_dicom_mask, read_dicom_mask
from medtl.io.dicom.dicom_tags import has_dicom_marker, open_dataset
from medtl.io.reader import detect_format


def is_dicom_mask_file(path: Path) -> bool:
    """True when `path` is a DICOM SEG or RTSTRUCT file.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> is_dicom_mask_file(Path(get_testdata_file("liver.dcm"))), is_dicom_mask_file(Path(__file__))
        (True, False)
    """
    if not path.is_file() or detect_format(path) != "dicom" or not has_dicom_marker(path):
        return False
    return is_dicom_mask(open_dataset(path, with_pixels=False))


def converted_mask(mask: Path, segment: str | None, image: Path, series_uid: str | None, image_hash: str) -> Path:
    """The NIfTI (3D) or PNG (2D) file holding `segment` of `mask` on the grid of `image`; converted on first
    use. A `ReadError` names the mask when the segment is missing or does not fit the image.

    Example:
        >>> converted_mask(Path("seg.dcm"), "Liver", Path("ct"), None, "ab12")  # doctest: +SKIP
        PosixPath('/home/me/.cache/medtl/cache/masks/5d1c...nii.gz')
    """
    key = hashlib.sha1("\n".join([file_sha1(mask), str(segment or ""), image_hash]).encode()).hexdigest()
    folder = _home() / "cache" / "masks"
    for done in (folder / f"{key}.nii.gz", folder / f"{key}.png"):
        if done.is_file():
            return done
    data = read_image(image, series_uid=series_uid)
    values = read_dicom_mask(mask, data, segment).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (f"{key}.nii.gz" if data.spatial_dims == 3 else f"{key}.png")
    partial = target.with_name(f".{target.name}")
    if data.spatial_dims == 3:
        nib.save(nib.Nifti1Image(values, data.affine), partial)
    else:
        Image.fromarray(values * 255).save(partial, format="PNG")
    os.replace(partial, target)  # whole files only: a run killed mid-write leaves no half mask behind
    return target


def _home() -> Path:
    from medtl.models.checkpoints.cache import medtl_home  # here, not at the top: medtl.models imports torch

    return medtl_home()
