"""`read_image` and `read_header`: pick the reader from what the path is.

.nii/.nii.gz -> NIfTI; .png -> PNG; .jpg/.jpeg -> JPEG; a folder -> DICOM series; any other file -> DICOM.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from medtl.io.dicom.dicom_image import dicom_header, read_dicom_file
from medtl.io.dicom.dicom_series import read_series, series_header
from medtl.io.dicom.dicom_tags import read_dataset
from medtl.errors import ReadError
from medtl.io.image import ImageData, ImageHeader
from medtl.io.nifti import nifti_header, read_nifti
from medtl.io.raster import raster_header, read_raster

SUFFIX_FORMATS = {".nii": "nifti", ".nii.gz": "nifti", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
FILE_READERS: dict[str, Callable[[Path], ImageData]] = {
    "nifti": read_nifti, "png": read_raster, "jpeg": read_raster, "dicom": read_dicom_file
}
FILE_HEADERS: dict[str, Callable[[Path], ImageHeader]] = {
    "nifti": nifti_header,
    "png": raster_header,
    "jpeg": raster_header,
    "dicom": lambda path: dicom_header(read_dataset(path, with_pixels=False), path),
}


def detect_format(path: str | Path) -> str:
    """"nifti", "png", "jpeg", "dicom-series" (a folder) or "dicom" (any other file).

    Example:
        >>> detect_format("brain.nii.gz"), detect_format("chest.JPG")
        ('nifti', 'jpeg')
    """
    path = Path(path)
    name = path.name.lower()
    for suffix, fmt in SUFFIX_FORMATS.items():
        if name.endswith(suffix):
            return fmt
    if path.is_dir():
        return "dicom-series"
    return "dicom"


def read_image(path: str | Path, series_uid: str | None = None) -> ImageData:
    """Read a 2D image or 3D volume; `series_uid` chooses the series when `path` is a folder of DICOM files
    (it is not needed when the folder holds one series, and is ignored for files).

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> read_image(get_testdata_file("MR_small_RLE.dcm")).array.shape
        (64, 64)
    """
    path = _existing(path)
    fmt = detect_format(path)
    with errors_named(path):
        if fmt == "dicom-series":
            return read_series(path, series_uid)
        return FILE_READERS[fmt](path)


def read_header(path: str | Path, series_uid: str | None = None) -> ImageHeader:
    """What `read_image` would return, minus the pixels: shape (same convention), spacing and identifiers.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> read_header(get_testdata_file("CT_small.dcm")).shape
        (128, 128)
    """
    path = _existing(path)
    fmt = detect_format(path)
    with errors_named(path):
        if fmt == "dicom-series":
            return series_header(path, series_uid)
        return FILE_HEADERS[fmt](path)


@contextmanager
def errors_named(path: str | Path) -> Iterator[None]:
    """Let `ReadError` through; turn any other error a file's content raises in a reader (a malformed value
    pydicom or nibabel did not foresee) into a `ReadError` that names the file.

    Example:
        >>> with errors_named("a.dcm"):
        ...     int("1A")
        Traceback (most recent call last):
        medtl.errors.ReadError: a.dcm: unreadable (ValueError: invalid literal for int() with base 10: '1A')
    """
    try:
        yield
    except ReadError:
        raise
    except Exception as err:  # noqa: BLE001 -- the caller gets one error type, naming the file, for any content
        raise ReadError(path, unexpected_reason(err)) from err


def unexpected_reason(err: Exception) -> str:
    """The reason given for an error no reader named: its type and first line.

    Example:
        >>> unexpected_reason(KeyError("Rows"))
        "unreadable (KeyError: 'Rows')"
    """
    first_line = next(iter(str(err).strip().splitlines()), "")
    return f"unreadable ({type(err).__name__}: {first_line})" if first_line else f"unreadable ({type(err).__name__})"


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise ReadError(path, "no such file or folder")
    return path
