"""`summarize`: a plain-text account of a `CaseTable` (cases, patients, labels, geometry, problems)."""
from __future__ import annotations

import pandas as pd

from medtl.data.case_rows import FILE_NAME
from medtl.data.case_table import CaseTable

TOP_SHAPES = 3


def summarize(table: CaseTable) -> str:
    """Cases, patients, cases and patients per label, how many cases have a mask, modalities, the commonest
    shapes, the spacing range, a warning when patient ids were guessed from file names, and every problem with
    its reason.

    Example:
        >>> print(summarize(CaseTable(pd.DataFrame({"case_id": ["a"], "patient_id": ["p1"], "image": ["a.png"],
        ...                                         "label": ["normal"]}))))
        1 cases, 1 patients
        label   cases  patients
        normal      1         1
        no problems
    """
    df = table.df
    lines = [f"{len(df)} cases, {df['patient_id'].nunique()} patients"]
    lines += _per_label(df) if table.classes else []
    lines += [f"masks: {int(df['mask'].notna().sum())} of {len(df)} cases"] if table.has_masks else []
    lines += _counts_line("modalities", df, "modality", None)
    lines += _counts_line("shapes", df, "shape", TOP_SHAPES)
    lines += _spacing_range(df)
    lines += _guessed_patients(df)
    lines.append(f"problems ({len(table.problems)}):" if table.problems else "no problems")
    lines += [f"  {p.path}: {p.reason}" for p in table.problems]
    return "\n".join(lines)


def _per_label(df: pd.DataFrame) -> list[str]:
    counts = df.groupby("label").agg(cases=("case_id", "size"), patients=("patient_id", "nunique"))
    width = max(len("label"), *(len(label) for label in counts.index))
    rows = [f"{label:<{width}}  {row.cases:>5}  {row.patients:>8}" for label, row in counts.iterrows()]
    return [f"{'label':<{width}}  cases  patients", *rows]


def _counts_line(name: str, df: pd.DataFrame, column: str, top: int | None) -> list[str]:
    if column not in df or df[column].isna().all():
        return []
    counts = df[column].fillna("unknown").value_counts()
    shown = ", ".join(f"{value} ({n})" for value, n in counts.head(top).items())
    more = f", and {len(counts) - top} more" if top is not None and len(counts) > top else ""
    return [f"{name}: {shown}{more}"]


def _spacing_range(df: pd.DataFrame) -> list[str]:
    if "spacing" not in df or df["spacing"].isna().all():
        return []
    spacings = df["spacing"].dropna().map(lambda s: tuple(float(v) for v in str(s).split("x")))
    lines = []
    for dims, group in spacings.groupby(spacings.map(len)):
        axes = list(zip(*group))
        low, high = ("x".join(f"{f(a):g}" for a in axes) for f in (min, max))
        lines.append(f"spacing ({dims}D): {low} mm" if low == high else f"spacing ({dims}D): {low} to {high} mm")
    return lines


def _guessed_patients(df: pd.DataFrame) -> list[str]:
    if "patient_id_source" not in df:
        return []
    guessed = int((df["patient_id_source"] == FILE_NAME).sum())
    if not guessed:
        return []
    return [f"warning: patient ids of {guessed} cases were guessed from file names (one image = one patient); "
            "if a patient has several images, give patient folders or a CSV manifest with patient_id, "
            "or patient-grouped folds will leak"]
