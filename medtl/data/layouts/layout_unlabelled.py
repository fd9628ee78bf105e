"""Data a trained model is applied to: a folder of images with no label folders, a CSV manifest whose label
column is optional, or any labelled layout (`scan_new_data`)."""
from __future__ import annotations

from pathlib import Path

from medtl.data.case_rows import build_table
from medtl.data.case_table import CaseTable
from medtl.data.layouts.layout_csv import scan_csv_manifest
from medtl.data.layouts.layout_unlabelled_folder import scan_unlabelled_folder
from medtl.data.scan import MANIFEST_NAME, detect_layout, scan_folder

NEW_DATA_LAYOUTS = ("auto", "folder", "csv", "class-folders", "msd")


def scan_new_data(data: str | Path, layout: str = "auto") -> CaseTable:
    """The cases to predict: `data` is a folder or a CSV manifest (columns path or image, optional label,
    patient_id and mask; relative paths are relative to the CSV's folder).

    Layouts: "folder" (`scan_unlabelled_folder`), "csv" (the manifest `data`, or data/cases.csv), "class-folders"
    and "msd" (labelled, as `scan_folder` reads them), or "auto": a CSV file is a manifest, a folder holding
    dataset.json is "msd", one holding cases.csv is "csv", any other folder is "folder". Case ids come from the
    same rules as `scan_folder`; unreadable files go to `table.problems`. No readable image at all is an error.

    Example:
        >>> scan_new_data("new_xrays")  # doctest: +SKIP
        CaseTable(12 cases, 7 patients, classes=[])
    """
    if layout not in NEW_DATA_LAYOUTS:
        raise ValueError(f"layout must be a str among {set(NEW_DATA_LAYOUTS)}. Got {layout!r} instead.")
    path = Path(data).absolute()
    if path.is_file():
        if layout not in ("auto", "csv"):
            raise ValueError(f"{path}: a file is read as a CSV manifest, which layout {layout!r} is not")
        table = build_table(*scan_csv_manifest(path, label_required=False), path.parent)
    elif not path.is_dir():
        raise ValueError(f"{path}: not a folder of images nor a CSV manifest")
    else:
        if layout == "auto":
            detected = detect_layout(path)
            layout = "folder" if detected == "class-folders" else detected
        if layout == "folder":
            table = build_table(*scan_unlabelled_folder(path), path)
        elif layout == "csv":
            table = build_table(*scan_csv_manifest(path / MANIFEST_NAME, label_required=False), path)
        else:
            table = scan_folder(path, layout=layout)
    if not len(table):
        reasons = "; ".join(f"{p.path}: {p.reason}" for p in table.problems[:5]) or "it is empty"
        raise ValueError(f"{path}: no readable image to predict ({reasons})")
    return table
