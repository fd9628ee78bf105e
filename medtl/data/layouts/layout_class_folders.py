"""The class-folders layout: `root/<label>/<patient>/<files>` and `root/<label>/<files>`, mixed freely."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from medtl.data.case_ids import image_stem
from medtl.data.case_rows import FILE_NAME, FOLDER, case_row, patient_of
from medtl.data.case_table import Problem
from medtl.data.folder_walk import survey
from medtl.data.scan_index import index_path, indexed_scan
from medtl.io.image import ImageHeader

NOT_IN_LABEL_FOLDER = "not inside a label folder"


def scan_class_folders(root: Path) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Rows and problems for a class-folders dataset: the first folder below `root` is the label.

    patient_id is the DICOM PatientID where the header has one, else the folder below the label folder,
    else the file stem (one image = one patient; such rows have patient_id_source "file name").
    A DICOM series folder is one case.

    Example:
        >>> rows, problems = scan_class_folders(Path("chest_xrays"))  # doctest: +SKIP
        >>> rows[0]["label"], rows[0]["patient_id"]  # doctest: +SKIP
        ('pneumonia', 'PAT-007')
    """
    listing, folder_problems = survey(root)
    loose = listing.pop(str(root), {})
    make_row = partial(folder_case_row, root=root, labelled=True)
    rows, problems, _ = indexed_scan(listing, make_row, index_path(root, "class-folders"))
    problems = [*problems, *folder_problems, *(Problem(str(root / name), NOT_IN_LABEL_FOLDER) for name in loose)]
    return rows, problems


def folder_case_row(header: ImageHeader, root: Path, labelled: bool) -> dict[str, Any]:
    """The case row of a file below `root`: with `labelled`, the first folder is its label; the next folder
    (else the file name) is its patient unless the header names one.

    Example:
        >>> folder_case_row(read_header("cxr/nodule/P01/a.png"), Path("cxr"), True)["label"]  # doctest: +SKIP
        'nodule'
    """
    parts = Path(header.path).relative_to(root).parts
    depth = 1 if labelled else 0
    if len(parts) >= depth + 2:
        patient, source = patient_of(header, parts[depth], FOLDER)
    else:
        patient, source = patient_of(header, image_stem(header.path), FILE_NAME)
    return case_row(header, label=parts[0] if labelled else None, patient_id=patient, patient_id_source=source)
