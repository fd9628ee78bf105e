"""`scan_files`: headers for the image files of a folder, DICOM slices grouped into their volumes."""
from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

from medtl.io.dicom.dicom_image import dicom_header
from medtl.io.dicom.dicom_series import SeriesFiles, is_volume_series, volume_header
from medtl.io.file_inspection import FileInspection, guarded, inspect_file
from medtl.io.image import ImageHeader, Problem


def scan_files(paths: Iterable[str | Path]) -> tuple[list[ImageHeader], list[Problem]]:
    """Headers for image files, a `Problem` for every file that is not a readable image, and the warnings
    (`Problem`s of severity "warning") the readers raised. No file's content makes it raise.

    DICOM files of one series that form a volume (several slices with positions) become ONE header whose
    path is their folder and whose `series_uid` names the series (a series that cannot form its volume is a
    problem for each of its files); other DICOM files (X-rays, a lone slice, multi-frame volumes) get one
    header each. Hidden files (name starting with ".") are ignored.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> headers, problems = scan_files([get_testdata_file("CT_small.dcm"), __file__])
        >>> [h.format for h in headers], [p.reason[:16] for p in problems]
        (['dicom'], ['not a DICOM file'])
    """
    inspections = [inspect_file(path) for path in sorted(Path(p) for p in paths) if not path.name.startswith(".")]
    return headers_of(inspections)


def headers_of(inspections: Iterable[FileInspection]) -> tuple[list[ImageHeader], list[Problem]]:
    """`scan_files`' result from inspected files (in path order): DICOM datasets grouped into series and
    volumes, every problem and warning kept.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> headers_of([inspect_file(get_testdata_file("CT_small.dcm"))])[0][0].shape
        (128, 128)
    """
    headers: list[ImageHeader] = []
    problems: list[Problem] = []
    series: dict[tuple[Path, str], SeriesFiles] = {}
    for found in inspections:
        problems += found.warnings + ([found.problem] if found.problem else [])
        if found.header is not None:
            headers.append(found.header)
        elif found.dataset is not None:
            series.setdefault((found.path.parent, found.series_uid), []).append((found.path, found.dataset))
    for (folder, series_uid), files in series.items():
        is_volume, _, warnings = guarded(folder, partial(is_volume_series, [ds for _, ds in files]))
        problems += warnings
        if is_volume:  # None when the slices' positions cannot be read: each file is then taken on its own
            jobs = [(folder, partial(volume_header, folder, series_uid, files))]
        else:
            jobs = [(path, partial(dicom_header, ds, path)) for path, ds in files]
        for path, make_header in jobs:
            header, problem, warnings = guarded(path, make_header)
            problems += warnings + (_for_each_file(problem, files) if problem else [])
            headers += [header] if header is not None else []
    return headers, problems


def _for_each_file(problem: Problem, files: SeriesFiles) -> list[Problem]:
    """A volume's problem once for each file it leaves out, so that every file not taken is named."""
    if not Path(problem.path).is_dir():
        return [problem]
    return [Problem(str(path), problem.reason) for path, _ in files]
