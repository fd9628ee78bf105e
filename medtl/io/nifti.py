"""NIfTI volumes (.nii, .nii.gz) through nibabel, reoriented to closest canonical RAS+ (`medtl.io.orientation`).

Values are scaled by the header's scl_slope/scl_inter, as nibabel's get_fdata does. A 4D file with a single
volume is squeezed to 3D; other 4D files (time series, multi-volume) raise `ReadError`.

A volume is read in one go: the whole file, inflated by one zlib call into a buffer of the size the gzip trailer
gives, then parsed by nibabel from memory. `nibabel.load` inflates through `GzipFile` in small reads, and
`gzip.decompress` copies the input and checks the CRC in a second pass; both are slower.
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
from nibabel.volumeutils import apply_read_scaling

from medtl.errors import ReadError
from medtl.io.image import ImageData, ImageHeader
from medtl.io.meta import image_meta
from medtl.io.orientation import canonical_geometry, to_canonical, voxel_spacing

NiftiImage = nib.Nifti1Image | nib.Nifti2Image


def read_nifti(path: str | Path) -> ImageData:
    """A NIfTI volume as float32 in canonical RAS+ with its voxel->RAS affine.

    Example:
        >>> from nibabel.testing import data_path
        >>> image = read_nifti(f"{data_path}/anatomical.nii")
        >>> image.array.shape, nib.aff2axcodes(image.affine)
        ((33, 41, 25), ('R', 'A', 'S'))
    """
    img, data = _from_memory(path)
    shape = _volume_shape(img, path)
    proxy = img.dataobj  # nibabel's reading of the header: where the voxels start, their dtype and scaling
    try:
        # The stored values as a view of the inflated bytes (reading through the proxy would copy them first),
        # scaled only when the header asks for it; float32 comes with the reorienting copy.
        stored = np.ndarray(proxy.shape, proxy.dtype, buffer=data, offset=proxy.offset, order=proxy.order)
    except TypeError as err:  # numpy's "buffer is too small for requested array"
        raise ReadError(path, f"cannot read the voxel data: the file is shorter than its header says ({err})") from err
    values = apply_read_scaling(stored, proxy.slope, proxy.inter)
    array, affine = to_canonical(values.reshape(shape, order=proxy.order), img.affine, np.float32)
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


def _from_memory(path: str | Path) -> tuple[NiftiImage, bytes]:
    """The image parsed from the file's bytes (inflated first when gzipped), and those bytes."""
    try:
        data = Path(path).read_bytes()
        if data[:2] == b"\x1f\x8b":  # the gzip magic number
            data = _inflate(data)
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
        raise ReadError(path, f"not a readable NIfTI file ({type(err).__name__}: {err})") from err
    for image_class in (nib.Nifti1Image, nib.Nifti2Image):
        if image_class.header_class.may_contain_header(data[: image_class.header_class.sizeof_hdr]):
            try:
                return image_class.from_bytes(data), data
            except Exception as err:  # nibabel reports bad headers with many exception types
                raise ReadError(path, f"not a readable NIfTI file ({type(err).__name__}: {err})") from err
    raise ReadError(path, "not a readable NIfTI file (no NIfTI-1 or NIfTI-2 header)")


def _inflate(data: bytes) -> bytes:
    """The inflated content of gzip `data`; the stdlib has no one-call inflate that sizes its buffer up front."""
    size = int.from_bytes(data[-4:], "little")  # ISIZE: the inflated size (mod 2**32) of the last gzip member
    inflated = zlib.decompress(data, wbits=31, bufsize=max(size, 1))
    if len(inflated) % 2**32 != size:  # zlib stops after the first member: a file of several members
        inflated = gzip.decompress(data)
    return inflated


def _load(path: str | Path) -> NiftiImage:
    try:
        img = nib.load(path)
    except Exception as err:  # nibabel reports bad files with many exception types
        raise ReadError(path, f"not a readable NIfTI file ({type(err).__name__}: {err})") from err
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise ReadError(path, f"a {type(img).__name__}, not a NIfTI volume")
    return img


def _volume_shape(img: NiftiImage, path: str | Path) -> tuple[int, ...]:
    shape = tuple(int(n) for n in img.shape)
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) != 3:
        raise ReadError(path, f"expected a 3D volume, got shape {shape}; select one volume of a 4D series first")
    return shape
