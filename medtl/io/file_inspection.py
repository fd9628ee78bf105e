"""One file of a scan, checked on its own: its header (or DICOM dataset), or the problem that keeps it out, and
the warnings its readers raised. Nothing a file holds escapes as an exception: every error becomes that file's
named problem, so one bad file never ends a scan. Files are independent here, so parallel workers may each
inspect some of them; `medtl.io.scan.scan_files` then groups DICOM slices into their volumes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydicom.dataset import Dataset

from medtl.io.dicom.dicom_pixel_check import pixel_data_problem, read_image_header
from medtl.io.dicom.dicom_tags import text
from medtl.io.file_warnings import captured_warnings
from medtl.errors import ReadError
from medtl.io.image import ImageHeader, Problem
from medtl.io.reader import detect_format, read_header, unexpected_reason

T = TypeVar("T")


@dataclass
class FileInspection:
    """What `inspect_file` learnt: `header` for a PNG/JPEG/NIfTI file, `dataset` (header only) and its
    `series_uid` ("" when it has none) for a DICOM image, or `problem`; `warnings` in every case."""

    path: Path
    header: ImageHeader | None = None
    dataset: Dataset | None = None
    series_uid: str = ""
    problem: Problem | None = None
    warnings: list[Problem] = field(default_factory=list)


def inspect_file(path: str | Path) -> FileInspection:
    """Read one file's header without decoding its pixels; a DICOM file's pixel data must also be present and
    as long as Rows x Columns x frames x bits say.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> inspect_file(get_testdata_file("CT_small.dcm")).dataset.Modality
        'CT'
        >>> inspect_file(__file__).problem.reason[:16]
        'not a DICOM file'
    """
    path = Path(path)
    if detect_format(path) != "dicom":
        header, problem, warnings = guarded(path, lambda: read_header(path))
        return FileInspection(path, header=header, problem=problem, warnings=warnings)
    found, problem, warnings = guarded(path, lambda: _checked_dataset(path))
    dataset, series_uid = found or (None, "")
    return FileInspection(path, dataset=dataset, series_uid=series_uid, problem=problem, warnings=warnings)


def guarded(path: str | Path, job: Callable[[], T]) -> tuple[T | None, Problem | None, list[Problem]]:
    """`job()`'s result, or None and the problem its error names (for `path`, or the file the error names);
    with the warnings raised meanwhile. Any exception becomes a problem: a file can break a reader in more
    ways than any reader lists.

    Example:
        >>> guarded("a.dcm", lambda: int("1A"))[1].reason
        "unreadable (ValueError: invalid literal for int() with base 10: '1A')"
    """
    with captured_warnings(path) as warnings:
        try:
            return job(), None, warnings
        except ReadError as err:
            return None, Problem(err.path, err.reason), warnings
        except Exception as err:  # noqa: BLE001 -- anything a damaged file makes a reader raise is that file's problem
            return None, Problem(str(path), unexpected_reason(err)), warnings


def _checked_dataset(path: Path) -> tuple[Dataset, str]:
    """The dataset and its series uid; reading the uid here keeps the warnings its value raises with the file."""
    dataset, extent = read_image_header(path)
    reason = pixel_data_problem(dataset, extent)
    if reason:
        raise ReadError(path, reason)
    return dataset, text(dataset, "SeriesInstanceUID") or ""
