"""The unlabelled-folder layout: images, volumes and DICOM series anywhere below a folder, no label folders
(what `medtl predict` reads, and `medtl scan --layout unlabelled`)."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from medtl.data.case_table import Problem
from medtl.data.folder_walk import survey
from medtl.data.layouts.layout_class_folders import folder_case_row
from medtl.data.scan_index import index_path, indexed_scan


def scan_unlabelled_folder(root: Path) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Rows (label None) and problems for every image, volume and DICOM series under `root`.

    patient_id is the DICOM PatientID where the header has one, else the first folder below `root`
    (`root/<patient>/<files>`), else the file or series-folder name (one image = one patient; such rows have
    patient_id_source "file name").

    Example:
        >>> rows, problems = scan_unlabelled_folder(Path("new_xrays"))  # doctest: +SKIP
        >>> rows[0]["patient_id"], rows[0]["label"]  # doctest: +SKIP
        ('PAT-107', None)
    """
    make_row = partial(folder_case_row, root=root, labelled=False)
    listing, folder_problems = survey(root)
    rows, problems, _ = indexed_scan(listing, make_row, index_path(root, "folder"))
    return rows, [*problems, *folder_problems]
