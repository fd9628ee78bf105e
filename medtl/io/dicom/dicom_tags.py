"""Opening DICOM files and reading the attributes medtl needs (identity, spacing, per-frame functional groups)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from medtl.errors import ReadError


def has_dicom_marker(path: str | Path) -> bool:
    """True when the file starts with the 128-byte preamble and the "DICM" marker of a DICOM file.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> has_dicom_marker(get_testdata_file("CT_small.dcm")), has_dicom_marker(__file__)
        (True, False)
    """
    with open(path, "rb") as handle:
        return handle.read(132)[128:] == b"DICM"


def open_dataset(path: str | Path, with_pixels: bool = True) -> Dataset:
    """Open any DICOM file (image or not); a file that is not DICOM or is damaged raises `ReadError`.

    Only files with the standard preamble and "DICM" marker are accepted.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> open_dataset(get_testdata_file("rtplan.dcm"), with_pixels=False).Modality
        'RTPLAN'
    """
    with dicom_errors_named(path):
        return pydicom.dcmread(path, stop_before_pixels=not with_pixels)


@contextmanager
def dicom_errors_named(path: str | Path) -> Iterator[None]:
    """Turn whatever pydicom raises while parsing `path` into a `ReadError` that names the file and the cause.

    Example:
        >>> with dicom_errors_named("notes.txt"):
        ...     pydicom.dcmread(__file__)
        Traceback (most recent call last):
        medtl.errors.ReadError: notes.txt: not a DICOM file (no 'DICM' marker after the 128-byte preamble)
    """
    try:
        yield
    except InvalidDicomError:
        raise ReadError(path, "not a DICOM file (no 'DICM' marker after the 128-byte preamble)") from None
    except OSError as err:
        raise ReadError(path, f"cannot open the file ({err.strerror or err})") from err
    except Exception as err:  # pydicom raises many kinds of errors on damaged files; all mean "cannot read it"
        raise ReadError(path, f"damaged DICOM file ({type(err).__name__}: {err})") from err


def is_image(ds: Dataset) -> bool:
    """True when the dataset describes pixels (has Rows and Columns).

    Example:
        >>> is_image(Dataset())
        False
    """
    return "Rows" in ds and "Columns" in ds


def read_dataset(path: str | Path, with_pixels: bool = True) -> Dataset:
    """Open a DICOM file that holds an image; anything else raises `ReadError` naming the file.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> read_dataset(get_testdata_file("CT_small.dcm"), with_pixels=False).Modality
        'CT'
    """
    return required_image(open_dataset(path, with_pixels), path)


def required_image(ds: Dataset, path: str | Path) -> Dataset:
    """`ds` when it holds an image, else a `ReadError` naming `path` and the dataset's SOP class.

    Example:
        >>> required_image(Dataset(), "plan.dcm")
        Traceback (most recent call last):
        medtl.errors.ReadError: plan.dcm: DICOM file without an image (SOP class: none); not an image object, or damaged
    """
    if not is_image(ds):
        kind = ds.get("SOPClassUID")
        kind = kind.name if kind else "none"
        raise ReadError(path, f"DICOM file without an image (SOP class: {kind}); not an image object, or damaged")
    return ds


def text(ds: Dataset, keyword: str) -> str | None:
    """An attribute as a stripped string, or None when absent or empty.

    Example:
        >>> text(Dataset(), "PatientID") is None
        True
    """
    value = ds.get(keyword)
    if value is None:
        return None
    return str(value).strip() or None


def identity(ds: Dataset) -> dict[str, Any]:
    """Modality and the patient/study/series identifiers, as stored in `ImageData.meta` and `ImageHeader`.

    Example:
        >>> ds = Dataset(); ds.Modality = "CR"; ds.PatientID = "p1"
        >>> identity(ds)["patient_id"]
        'p1'
    """
    return {
        "modality": text(ds, "Modality"),
        "patient_id": text(ds, "PatientID"),
        "study_uid": text(ds, "StudyInstanceUID"),
        "series_uid": text(ds, "SeriesInstanceUID"),
    }


def frame_count(ds: Dataset) -> int:
    """NumberOfFrames (1 when absent).

    Example:
        >>> frame_count(Dataset())
        1
    """
    return int(ds.get("NumberOfFrames") or 1)


def samples_per_pixel(ds: Dataset) -> int:
    """3 for colour pixels (RGB, YBR or a palette), else 1.

    Example:
        >>> ds = Dataset(); ds.PhotometricInterpretation = "PALETTE COLOR"
        >>> samples_per_pixel(ds)
        3
    """
    if ds.get("PhotometricInterpretation") == "PALETTE COLOR":
        return 3
    return int(ds.get("SamplesPerPixel") or 1)


def functional_item(ds: Dataset, frame: int, sequence: str) -> Dataset | None:
    """The item of an enhanced multi-frame functional group (e.g. "PlanePositionSequence") for one frame,
    taken from the per-frame groups first and the shared groups otherwise; None when neither has it.

    Example:
        >>> functional_item(Dataset(), 0, "PixelMeasuresSequence") is None
        True
    """
    groups = []
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame and frame < len(per_frame):
        groups.append(per_frame[frame])
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared:
        groups.append(shared[0])
    for group in groups:
        if group.get(sequence):
            return group.get(sequence)[0]
    return None


def pixel_spacing(ds: Dataset) -> tuple[float, float] | None:
    """(row spacing, column spacing) in mm from PixelSpacing, else ImagerPixelSpacing; None when neither.

    Example:
        >>> ds = Dataset(); ds.ImagerPixelSpacing = [0.2, 0.1]
        >>> pixel_spacing(ds)
        (0.2, 0.1)
    """
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(keyword)
        if value is not None and len(value) == 2:
            return float(value[0]), float(value[1])
    return None
