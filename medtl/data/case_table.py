"""`CaseTable`: the validated table of cases (one row per image or volume) that every later stage reads."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd

from medtl.io.file_warnings import message_kind
from medtl.io.image import Problem

REQUIRED = ("case_id", "patient_id", "image")
OPTIONAL = ("label", "mask", "study", "series", "modality", "spacing", "shape", "image_hash", "patient_id_source")
TEXT_COLUMNS = ("case_id", "patient_id", "image", "label", "study", "series", "image_hash")
COLUMNS = REQUIRED + OPTIONAL


class CaseTable:
    """A validated table of cases: `case_id`, `patient_id`, `image` and optionally `label`, `mask`, `study`,
    `series`, `modality`, `spacing`, `shape`. `problems` lists files a scan passed over, with the reason;
    `warnings` what the readers said about files it took.

    Validation errors name the offending row and file.

    Example:
        >>> t = CaseTable(pd.DataFrame({"case_id": ["a"], "patient_id": ["p1"], "image": ["a.png"], "label": ["x"]}))
        >>> len(t), t.classes
        (1, ['x'])
    """

    def __init__(self, df: pd.DataFrame, problems: list[Problem] | None = None, warnings: list[Problem] | None = None):
        self.df = _validated(df)
        self.problems: list[Problem] = list(problems or [])
        self.warnings: list[Problem] = list(warnings or [])

    def __len__(self) -> int:
        return len(self.df)

    def __repr__(self) -> str:
        return f"CaseTable({len(self)} cases, {self.df['patient_id'].nunique()} patients, classes={self.classes})"

    @property
    def classes(self) -> list[str]:
        """Sorted distinct labels (empty when the table is unlabelled)."""
        if "label" not in self.df:
            return []
        return sorted(str(v) for v in self.df["label"].dropna().unique())

    @property
    def has_masks(self) -> bool:
        """Whether any case has a segmentation mask."""
        return "mask" in self.df and bool(self.df["mask"].notna().any())

    def subset(self, rows: Any) -> "CaseTable":
        """The cases at the given positional rows (an index array or boolean mask)."""
        return CaseTable(self.df.iloc[rows] if not _is_bool_mask(rows) else self.df[rows], self.problems, self.warnings)

    def to_datalist(self) -> list[dict[str, Any]]:
        """MONAI-style list of dicts, one per case; NaN cells are left out.

        Example:
            >>> CaseTable(pd.DataFrame({"case_id": ["a"], "patient_id": ["p"], "image": ["a.png"]})).to_datalist()
            [{'case_id': 'a', 'patient_id': 'p', 'image': 'a.png'}]
        """
        return [{k: v for k, v in row.items() if not _is_missing(v)} for row in self.df.to_dict("records")]

    def to_csv(self, path: str | Path) -> Path:
        path = Path(path)
        self.df.to_csv(path, index=False)
        return path

    def problems_to_csv(self, path: str | Path) -> Path:
        """Every problem and warning as CSV: path, severity, kind (`message_kind`), reason.

        Example:
            >>> scan_folder("data").problems_to_csv("scan_problems.csv")  # doctest: +SKIP
            PosixPath('scan_problems.csv')
        """
        path = Path(path)
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["path", "severity", "kind", "reason"])
            for note in [*self.problems, *self.warnings]:
                writer.writerow([note.path, note.severity, message_kind(note.reason), note.reason])
        return path

    @classmethod
    def from_csv(cls, path: str | Path) -> "CaseTable":
        """Read a table written by `to_csv` (ids are kept as strings)."""
        df = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS})
        try:
            return cls(df)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _is_bool_mask(rows: Any) -> bool:
    return hasattr(rows, "dtype") and rows.dtype == bool


def _as_text(column: pd.Series) -> pd.Series:
    """The column as objects: its values as str, its missing values (None, NaN) as they are."""
    if isinstance(column.dtype, pd.StringDtype) or pd.api.types.infer_dtype(column, skipna=True) in (
            "string", "empty"):
        return column.astype(object)  # text already: no value to convert one by one
    return column.map(lambda v: v if _is_missing(v) else str(v)).astype(object)


def _validated(df: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"case table lacks column(s) {missing}; it has {list(df.columns)}")
    df = df.reset_index(drop=True).copy()
    for col in TEXT_COLUMNS:
        if col in df:
            df[col] = _as_text(df[col])
    for col in REQUIRED:
        empty = df[col].isna() | (df[col] == "")
        if empty.any():
            i = int(empty.idxmax())
            raise ValueError(f"row {i} (image {df.loc[i, 'image']!r}) has an empty {col}")
    dup = df["case_id"].duplicated(keep=False)
    if dup.any():
        rows = df.index[dup].tolist()
        raise ValueError(f"case_id {df.loc[rows[0], 'case_id']!r} appears in rows {rows}; case ids must be unique")
    return df
