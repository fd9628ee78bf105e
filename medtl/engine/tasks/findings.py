"""Multi-label targets: one 0/1 column per finding in a CSV manifest (ChestX-ray14 / CheXpert style), read
onto the scanned cases.

A finding column holds 1 (present), 0 (absent), or -1 / blank / "nan" (uncertain or not read: missing, left
out of that finding's loss and metrics); "1.0" and "0.0" are read as 1 and 0. The finding columns are every
manifest column besides the case columns (path or image, label, patient_id, mask, study, series, case_id)
whose values all read so; any other value in a column that also holds 0/1 values is an error that names the
file, row and column. On the case table each finding becomes a float column `y_<finding>` (NaN: missing), and
`label` the split stratum: "finding" when any finding is present, else "no_finding".
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from medtl.data.case_table import CaseTable
from medtl.data.layouts.layout_csv import read_manifest

CASE_COLUMNS = frozenset({"path", "image", "label", "patient_id", "mask", "study", "series", "case_id"})
VALUES = {"1": 1.0, "1.0": 1.0, "0": 0.0, "0.0": 0.0, "-1": np.nan, "-1.0": np.nan, "": np.nan, "nan": np.nan}
PREFIX = "y_"


def finding_names(table: CaseTable) -> list[str]:
    """The findings of a table read by `with_findings`, in manifest order.

    Example:
        >>> finding_names(CaseTable(pd.DataFrame({"case_id": ["a"], "patient_id": ["p"], "image": ["a.png"],
        ...                                       "y_edema": [1.0]})))
        ['edema']
    """
    return [c[len(PREFIX):] for c in table.df.columns if c.startswith(PREFIX)]


def with_findings(table: CaseTable, manifest: str | Path) -> CaseTable:
    """`table` (scanned from `manifest`) with one `y_<finding>` column per finding column of the manifest and
    the split stratum as its label; a clear error when the manifest has no finding column or an unreadable value.

    Example:
        >>> table = with_findings(scan_new_data("data/cxr14/cases.csv"), "data/cxr14/cases.csv")  # doctest: +SKIP
        >>> finding_names(table)                                                                   # doctest: +SKIP
        ['atelectasis', 'effusion', 'nodule']
    """
    manifest = Path(manifest).absolute()
    raw = read_manifest(manifest, label_required=False)
    findings = {name: _parsed(raw[name], manifest, name) for name in raw.columns if name not in CASE_COLUMNS}
    findings = {name: values for name, values in findings.items() if values is not None}
    if not findings:
        raise ValueError(f"{manifest}: task multilabel needs one 0/1 column per finding besides "
                         f"{sorted(CASE_COLUMNS)}; it has {list(raw.columns)}")
    rows = {os.path.normpath(manifest.parent / p): i for i, p in enumerate(raw["path"])}
    positions = [rows[os.path.normpath(image)] for image in table.df["image"]]
    df = table.df.copy()
    for name, values in findings.items():
        df[PREFIX + name] = values[positions]
    present = np.nan_to_num(df[[PREFIX + n for n in findings]].to_numpy(), nan=0.0).any(axis=1)
    df["label"] = np.where(present, "finding", "no_finding")
    return CaseTable(df, problems=table.problems)


def _parsed(column: pd.Series, manifest: Path, name: str) -> np.ndarray | None:
    """The column's values as 1.0 / 0.0 / NaN, or None when it holds no 0/1 value (not a finding)."""
    text = column.str.lower()
    known = text.isin(VALUES)
    if not text.isin(["1", "1.0", "0", "0.0"]).any():
        return None
    if not known.all():
        row = int(np.flatnonzero(~known.to_numpy())[0])
        raise ValueError(f"{manifest}: row {row + 2}, column {name!r}: {column.iloc[row]!r} is not a finding "
                         "value (1 present, 0 absent, -1 or blank uncertain)")
    return text.map(VALUES).to_numpy(dtype=np.float64)
