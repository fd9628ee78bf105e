"""`scan_files`: headers for the image files of a folder, DICOM slices grouped into their volumes."""
from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

from medtl.io.dicom_image import dicom_header
from medtl.io.dicom_series import SeriesFiles, is_volume_series, volume_header
from medtl.io.dicom_tags import read_dataset, text
from medtl.io.image import ImageHeader, Problem, ReadError
from medtl.io.reader import detect_format, read_header


def scan_files(paths: Iterable[str | Path]) -> tuple[list[ImageHeader], list[Problem]]:
    """Headers for image files, and a `Problem` for every file that is not a readable image.

    DICOM files of one series that form a volume (several slices with positions) become ONE header whose
    path is their folder and whose `series_uid` names the series; other DICOM files (X-rays, a lone slice,
    multi-frame volumes) get one header each. Hidden files (name starting with ".") are ignored.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> headers, problems = scan_files([get_testdata_file("CT_small.dcm"), __file__])
        >>> [h.format for h in headers], [p.reason[:16] for p in problems]
        (['dicom'], ['not a DICOM file'])
    """
    headers: list[ImageHeader] = []
    problems: list[Problem] = []
    series: dict[tuple[Path, str], SeriesFiles] = {}
    for path in sorted(Path(p) for p in paths):
        if path.name.startswith("."):
            continue
        try:
            if detect_format(path) == "dicom":
                ds = read_dataset(path, with_pixels=False)
                series.setdefault((path.parent, text(ds, "SeriesInstanceUID") or ""), []).append((path, ds))
            else:
                headers.append(read_header(path))
        except ReadError as err:
            problems.append(Problem(str(path), err.reason))
    for (folder, series_uid), files in series.items():
        if is_volume_series([ds for _, ds in files]):
            jobs = [(folder, partial(volume_header, folder, series_uid, files))]
        else:
            jobs = [(path, partial(dicom_header, ds, path)) for path, ds in files]
        for path, make_header in jobs:
            try:
                headers.append(make_header())
            except ReadError as err:
                problems.append(Problem(str(path), err.reason))
    return headers, problems
