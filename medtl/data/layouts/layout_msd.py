"""The Medical Segmentation Decathlon layout: `root/dataset.json`, `imagesTr/`, `labelsTr/`.

One case per "training" entry, its mask from the entry's "label". The case's `label` column is "lesion" when
the mask has any foreground voxel, else "normal", so the same table serves classification and segmentation.
patient_id is the case stem unless a cases.csv next to dataset.json (columns case_id, patient_id) gives it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from medtl.data.case_ids import image_stem
from medtl.data.case_rows import FILE_NAME, MANIFEST, case_row, header_or_problem, mask_mismatch
from medtl.data.case_table import Problem
from medtl.data.layouts.layout_csv import read_patient_ids

LESION, NORMAL = "lesion", "normal"


def read_dataset_json(path: Path) -> dict[str, Any]:
    """dataset.json, checked to hold a "training" list of {"image", "label"} entries; else a ValueError naming it.

    Example:
        >>> len(read_dataset_json(Path("Task09_Spleen/dataset.json"))["training"])  # doctest: +SKIP
        41
    """
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a readable dataset.json ({err})") from None
    training = meta.get("training") if isinstance(meta, dict) else None
    if not isinstance(training, list):
        raise ValueError(f"{path}: needs a \"training\" list of {{\"image\": ..., \"label\": ...}} entries")
    for i, entry in enumerate(training):
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("image", "label"))):
            raise ValueError(f"{path}: training entry {i} needs string \"image\" and \"label\"; got {entry!r}")
    return meta


def scan_msd(root: Path) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Rows and problems for an MSD task folder (see the module docstring for how label and patient are set).

    Example:
        >>> rows, problems = scan_msd(Path("Task09_Spleen"))  # doctest: +SKIP
        >>> rows[0]["label"]  # doctest: +SKIP
        'lesion'
    """
    meta = read_dataset_json(root / "dataset.json")
    patients = read_patient_ids(root / "cases.csv") if (root / "cases.csv").is_file() else {}
    modality = _modality(meta.get("modality"))
    rows, problems = [], []
    for i, entry in enumerate(meta["training"]):
        image, mask = root / entry["image"], root / entry["label"]
        where = f"dataset.json training entry {i}"
        headers = [header_or_problem(image, where, problems), header_or_problem(mask, where, problems)]
        mismatch = mask_mismatch(*headers, where) if None not in headers else None
        if mismatch:
            problems.append(mismatch)
        label = _lesion_or_normal(mask, where, problems) if None not in headers and not mismatch else None
        if label is None:
            continue
        case = image_stem(image)
        patient, source = (patients[case], MANIFEST) if case in patients else (case, FILE_NAME)
        row = case_row(headers[0], label=label, patient_id=patient, patient_id_source=source, mask=mask)
        rows.append({**row, "modality": row["modality"] or modality})
    return rows, problems


def _modality(modalities: Any) -> str | None:
    """dataset.json's {"0": "FLAIR", "1": "T1w"} -> "FLAIR+T1w"."""
    if not isinstance(modalities, dict) or not modalities:
        return None
    return "+".join(str(v) for v in modalities.values())


def _lesion_or_normal(mask: Path, where: str, problems: list[Problem]) -> str | None:
    try:
        return LESION if np.asarray(nib.load(mask).dataobj).any() else NORMAL
    except Exception as err:  # noqa: BLE001 -- nibabel raises many types for damaged or truncated files
        problems.append(Problem(str(mask), f"{where}: mask unreadable ({err})"))
        return None
