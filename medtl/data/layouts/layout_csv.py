"""The CSV-manifest layout: a CSV with columns path (or image), label, and optional patient_id, mask and
mask_segment (for a DICOM SEG mask its segment number or label, for an RTSTRUCT its ROI name);
also the small case_id -> patient_id CSV an MSD folder may hold."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from medtl.data.case_ids import image_stem
from medtl.data.case_rows import (
    FILE_NAME, MANIFEST, case_row, header_or_problem, image_hash, mask_mismatch, patient_of,
)
from medtl.data.case_table import Problem
from medtl.data.dicom_mask_files import converted_mask, is_dicom_mask_file
from medtl.io.file_inspection import guarded
from medtl.io.image import ImageHeader

PATH_COLUMNS = ("path", "image")


def read_manifest(csv_path: Path, label_required: bool = True) -> pd.DataFrame:
    """The manifest as strings (ids such as "007" stay as written; empty cells are ""), with its path column
    named "path"; a clear ValueError when the file is unreadable or lacks a column (`label` only when
    `label_required`).

    Example:
        >>> read_manifest(Path("data/cases.csv")).columns.tolist()  # doctest: +SKIP
        ['path', 'label', 'patient_id']
    """
    df = _read_strings(csv_path)
    path_column = next((c for c in PATH_COLUMNS if c in df.columns), None)
    if path_column is None or (label_required and "label" not in df.columns):
        needed = "'path' (or 'image') and 'label'" if label_required else "'path' (or 'image')"
        raise ValueError(f"{csv_path}: a manifest needs columns {needed}; it has {list(df.columns)}")
    return df.rename(columns={path_column: "path"})


def read_patient_ids(csv_path: Path) -> dict[str, str]:
    """case_id -> patient_id from a CSV with a patient_id column and either case_id or an image path column
    (`path` / `image`, whose file name gives the case id); rows with an empty patient_id are left out.

    Example:
        >>> read_patient_ids(Path("Task09_Spleen/cases.csv"))  # doctest: +SKIP
        {'spleen_2': 'P01', 'spleen_3': 'P01'}
    """
    df = _read_strings(csv_path)
    case_column = next((c for c in ("case_id", *PATH_COLUMNS) if c in df.columns), None)
    if case_column is None or "patient_id" not in df.columns:
        raise ValueError(f"{csv_path}: needs columns 'patient_id' and one of 'case_id', {', '.join(map(repr, PATH_COLUMNS))}; "
                         f"it has {list(df.columns)}")
    cases = df[case_column] if case_column == "case_id" else df[case_column].map(image_stem)
    return {case: patient for case, patient in zip(cases, df["patient_id"]) if patient}


def _read_strings(csv_path: Path) -> pd.DataFrame:
    if not csv_path.is_file():
        raise ValueError(f"{csv_path}: CSV file not found")
    try:
        df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"{csv_path}: not a readable CSV ({err})") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df.apply(lambda column: column.str.strip())


def scan_csv_manifest(csv_path: Path, label_required: bool = True) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Rows and problems for the cases a manifest lists; relative paths are relative to the CSV's folder.

    patient_id is the manifest's where given, else the DICOM PatientID, else the file stem. A row whose file is
    missing or unreadable, whose label is empty (when `label_required`; otherwise its label is None), or whose
    mask does not match its image is a problem.

    Example:
        >>> rows, problems = scan_csv_manifest(Path("data/cases.csv"))  # doctest: +SKIP
        >>> problems  # doctest: +SKIP
        [Problem(path='data/missing.png', reason='cases.csv line 4: file not found')]
    """
    rows, problems = [], []
    for index, entry in read_manifest(csv_path, label_required).iterrows():
        where = f"{csv_path.name} line {int(index) + 2}"  # line 1 is the header
        row = _manifest_row(entry, csv_path, where, problems, label_required)
        if row is not None:
            rows.append(row)
    return rows, problems


def _manifest_row(entry: pd.Series, csv_path: Path, where: str, problems: list[Problem],
                  label_required: bool) -> dict[str, Any] | None:
    if not entry["path"]:
        problems.append(Problem(str(csv_path), f"{where}: empty path"))
        return None
    image = _resolved(csv_path.parent, entry["path"])
    if label_required and not entry.get("label"):
        problems.append(Problem(str(image), f"{where}: empty label"))
        return None
    header = header_or_problem(image, where, problems)
    mask = _resolved(csv_path.parent, entry["mask"]) if entry.get("mask") else None
    if header is not None and mask is not None and is_dicom_mask_file(mask):
        mask = _converted(mask, entry.get("mask_segment"), header, where, problems)
        if mask is None:
            return None
    mask_header = header_or_problem(mask, where, problems) if mask else None
    if header is None or (mask and mask_header is None):
        return None
    mismatch = mask_mismatch(header, mask_header, where) if mask_header else None
    if mismatch:
        problems.append(mismatch)
        return None
    if entry.get("patient_id"):
        patient, source = entry["patient_id"], MANIFEST
    else:
        patient, source = patient_of(header, image_stem(image), FILE_NAME)
    return case_row(header, label=entry.get("label") or None, patient_id=patient, patient_id_source=source, mask=mask)


def _resolved(base: Path, path: str) -> Path:
    return Path(os.path.normpath(base / path))  # "lists/../imgs/a.png" -> "imgs/a.png"; symlinks are kept


def _converted(mask: Path, segment: str | None, header: ImageHeader, where: str,
               problems: list[Problem]) -> Path | None:
    """A DICOM SEG/RTSTRUCT mask as the NIfTI/PNG file `converted_mask` makes, or None after adding its problem."""
    image = Path(header.path)
    series = header.series_uid if image.is_dir() else None
    digest = image_hash(header)
    converted, problem, warnings = guarded(mask, lambda: converted_mask(mask, segment, image, series, digest))
    problems += warnings + ([Problem(problem.path, f"{where}: {problem.reason}")] if problem else [])
    return converted
