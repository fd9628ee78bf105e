"""Turning image headers into `CaseTable` rows, and a layout's rows into the `CaseTable` itself."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pandas as pd

from medtl.data.case_ids import id_candidates, unique_case_ids
from medtl.data.case_table import COLUMNS, CaseTable, Problem
from medtl.data.duplicates import drop_duplicates, file_sha1
from medtl.data.cohort_checks import cohort_outliers
from medtl.io import read_header
from medtl.io.file_inspection import guarded, inspect_file
from medtl.io.image import ImageHeader
from medtl.io.scan import headers_of

# Where a case's patient_id came from; FILE_NAME means it was guessed (one image = one patient).
DICOM, FOLDER, MANIFEST, FILE_NAME = "dicom", "folder", "manifest", "file name"
SCAN_COLUMNS = COLUMNS


def patient_of(header: ImageHeader, fallback: str, fallback_source: str) -> tuple[str, str]:
    """The DICOM PatientID when the header has one, else `fallback`; with where it came from.

    Example:
        >>> patient_of(ImageHeader("a.png", "png", (32, 32)), "p1", FOLDER)
        ('p1', 'folder')
    """
    if header.patient_id:
        return header.patient_id, DICOM
    return fallback, fallback_source


def image_hash(header: ImageHeader) -> str:
    """sha1 of the image file's bytes; for a DICOM series folder, of its files' bytes and the series uid
    (so two series sharing a folder differ, and a copied series folder matches its original).

    Example:
        >>> image_hash(ImageHeader("scan.dcm", "dicom", (32, 32)))  # doctest: +SKIP
        '3f786850e387550fdab836ed7e6dc881de23001b'
    """
    path = Path(header.path)
    if not path.is_dir():
        return file_sha1(path)
    digest = hashlib.sha1(str(header.series_uid).encode())
    for file in sorted(p for p in path.iterdir() if p.is_file()):
        digest.update(file_sha1(file).encode())
    return digest.hexdigest()


def case_row(
    header: ImageHeader,
    *,
    label: str | None,
    patient_id: str,
    patient_id_source: str,
    mask: str | Path | None = None,
) -> dict[str, Any]:
    """One `CaseTable` row (without `case_id`, chosen once all rows are known) for an image header.

    Example:
        >>> row = case_row(ImageHeader("/d/a.png", "png", (32, 32), (0.7, 0.7)), label="normal",
        ...                patient_id="p1", patient_id_source=FOLDER)  # doctest: +SKIP
        >>> row["shape"], row["spacing"]  # doctest: +SKIP
        ('32x32', '0.7x0.7')
    """
    return {
        "patient_id": patient_id,
        "image": str(Path(header.path).absolute()),
        "label": label,
        "mask": str(Path(mask).absolute()) if mask else None,
        "study": header.study_uid,
        "series": header.series_uid,
        "modality": header.modality,
        "spacing": "x".join(f"{s:g}" for s in header.spacing) if header.spacing else None,
        "shape": "x".join(str(n) for n in header.shape),
        "image_hash": image_hash(header),
        "patient_id_source": patient_id_source,
        # for `build_table` (its cohort checks and case ids); not columns of the table
        "channels": header.channels,
        "folder": os.path.isdir(header.path),
    }


def header_or_problem(path: Path, where: str, problems: list[Problem]) -> ImageHeader | None:
    """The file's header (checked as a scan checks it, `inspect_file`), or None after adding a problem (prefixed
    by `where`) for a missing or unreadable file; the readers' warnings are added to `problems` as well.

    Example:
        >>> problems = []
        >>> header_or_problem(Path("gone.png"), "cases.csv line 3", problems), problems
        (None, [Problem(path='gone.png', reason='cases.csv line 3: file not found')])
    """
    if not path.exists():
        problems.append(Problem(str(path), f"{where}: file not found"))
        return None
    if path.is_dir():
        header, problem, warnings = guarded(path, lambda: read_header(path))
        headers, notes = ([header] if header else []), [*warnings, *([problem] if problem else [])]
    else:
        headers, notes = headers_of([inspect_file(path)])
    problems += [note if note.is_warning else Problem(note.path, f"{where}: {note.reason}") for note in notes]
    return headers[0] if headers else None


def mask_mismatch(image: ImageHeader, mask: ImageHeader, where: str) -> Problem | None:
    """A problem (prefixed by `where`) when the mask's shape differs from its image's, channels aside; else None.

    Example:
        >>> image, mask = ImageHeader("a.nii", "nifti", (16, 16, 16)), ImageHeader("m.nii", "nifti", (16, 16, 8))
        >>> mask_mismatch(image, mask, "row 2")
        Problem(path='m.nii', reason='row 2: mask shape 16x16x8 differs from image shape 16x16x16 (a.nii)')
    """
    if tuple(image.shape[: len(mask.shape)]) == tuple(mask.shape):
        return None
    shapes = "x".join(map(str, mask.shape)), "x".join(map(str, image.shape))
    return Problem(mask.path, f"{where}: mask shape {shapes[0]} differs from image shape {shapes[1]} ({image.path})")


def build_table(rows: list[dict[str, Any]], problems: list[Problem], root: Path) -> CaseTable:
    """The `CaseTable` of a scan: rows sorted by image path, duplicates and cases unlike their cohort
    (`cohort_outliers`) moved to the problems, unique case ids; warnings (problems of severity "warning") are
    kept apart as `table.warnings`.

    Example:
        >>> build_table([], [Problem("x.txt", "not an image")], Path(".")).problems
        [Problem(path='x.txt', reason='not an image')]
    """
    rows, duplicates = drop_duplicates(sorted(rows, key=lambda r: (r["image"], r["series"] or "")))
    rows, outliers = cohort_outliers(rows)
    base = str(root.absolute())
    candidates = [id_candidates(r["image"], base, r["series"], r["folder"]) for r in rows]
    for row, case_id in zip(rows, unique_case_ids(candidates)):
        row["case_id"] = case_id
    df = pd.DataFrame(rows, columns=list(SCAN_COLUMNS))
    notes = sorted(problems + duplicates + outliers, key=lambda p: p.path)
    return CaseTable(df, [p for p in notes if not p.is_warning], [p for p in notes if p.is_warning])
