"""`scan_folder`: a dataset folder (class folders, CSV manifest or MSD) -> `CaseTable`, problems listed."""
from __future__ import annotations

from pathlib import Path

from medtl.data.case_rows import build_table
from medtl.data.case_table import CaseTable
from medtl.data.layouts.layout_class_folders import scan_class_folders
from medtl.data.layouts.layout_csv import scan_csv_manifest
from medtl.data.layouts.layout_msd import scan_msd
from medtl.data.layouts.layout_unlabelled_folder import scan_unlabelled_folder

LAYOUTS = ("auto", "class-folders", "csv", "msd", "unlabelled")
MANIFEST_NAME = "cases.csv"
MSD_NAME = "dataset.json"


def detect_layout(root: str | Path) -> str:
    """"msd" when `root` holds dataset.json, else "csv" when it holds cases.csv, else "class-folders".

    dataset.json is looked for first because an MSD folder may also hold a cases.csv of patient ids.

    Example:
        >>> detect_layout("chest_xrays")  # doctest: +SKIP
        'class-folders'
    """
    root = Path(root)
    if (root / MSD_NAME).is_file():
        return "msd"
    if (root / MANIFEST_NAME).is_file():
        return "csv"
    return "class-folders"


def scan_folder(root: str | Path, layout: str = "auto", manifest: str | Path | None = None) -> CaseTable:
    """Scan a dataset into a `CaseTable`: one row per image, DICOM series or volume.

    Layouts: "class-folders" (`root/<label>/[<patient>/]<files>`), "csv" (root/cases.csv or `manifest`, columns
    path or image, label, optional patient_id and mask), "msd" (dataset.json, imagesTr/, labelsTr/; label is
    "lesion" when the mask has a foreground voxel, else "normal"), "unlabelled" (images anywhere below `root`,
    no labels, patients as `medtl predict` finds them: `scan_unlabelled_folder`), or "auto" (see `detect_layout`).
    Unreadable and non-image files, duplicates (identical bytes: the first is kept), empty folders, manifest
    rows without a file or label, and masks shaped unlike their image go to `table.problems`, never raised.
    A layout that cannot apply (no cases.csv, malformed dataset.json) raises a ValueError naming the file.

    Example:
        >>> table = scan_folder("chest_xrays")  # doctest: +SKIP
        >>> table.classes, [p.reason for p in table.problems]  # doctest: +SKIP
        (['normal', 'pneumonia'], ['empty folder'])
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be a str among {set(LAYOUTS)}. Got {layout!r} instead.")
    root = Path(root).absolute()
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    if layout == "auto":
        layout = "csv" if manifest is not None else detect_layout(root)
    if manifest is not None and layout != "csv":
        raise ValueError(f"a manifest applies to the csv layout only; got layout {layout!r}")
    if layout == "csv":
        csv_path = Path(manifest).absolute() if manifest is not None else root / MANIFEST_NAME
        rows, problems = scan_csv_manifest(csv_path)
    elif layout == "msd":
        rows, problems = scan_msd(root)
    elif layout == "unlabelled":
        rows, problems = scan_unlabelled_folder(root)
    else:
        rows, problems = scan_class_folders(root)
    return build_table(rows, problems, root)
