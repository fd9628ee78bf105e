"""`summarize`: a plain-text account of a `CaseTable` (cases, patients, labels, geometry, problems)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from medtl.data.case_rows import FILE_NAME
from medtl.data.case_table import CaseTable, Problem
from medtl.data.layouts.layout_class_folders import NOT_IN_LABEL_FOLDER
from medtl.io.file_warnings import message_kind

TOP_SHAPES = 3
LISTED = 10  # problems listed one by one up to this many; more are counted by kind
TOP_KINDS, TOP_WARNING_KINDS, FIRST_FILES = 12, 6, 3


def summarize(table: CaseTable, verbose: bool = False) -> str:
    """Cases, patients, cases and patients per label, how many cases have a mask, modalities, the commonest
    shapes, the spacing range, a warning when patient ids were guessed from file names, why no case was found,
    and the problems and warnings: each one when few or `verbose`, else counted by kind with their first files,
    so the summary of a large archive fits one screen.

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
    lines += [no_case_reason(table.problems)] if not len(df) else []
    if not table.problems:
        lines.append("no problems")
    elif verbose or len(table.problems) <= LISTED:
        lines += [f"problems ({len(table.problems)}):", *(f"  {p.path}: {p.reason}" for p in table.problems)]
    else:
        lines += [f"problems ({len(table.problems)} files not taken), by kind:", *_by_kind(table.problems, TOP_KINDS)]
    if table.warnings and verbose:
        lines += [f"warnings ({len(table.warnings)}):", *(f"  {w.path}: {w.reason}" for w in table.warnings)]
    elif table.warnings:
        files = len({w.path for w in table.warnings})
        lines += [f"warnings ({len(table.warnings)} in {files} files), by kind:",
                  *_by_kind(table.warnings, TOP_WARNING_KINDS)]
    return "\n".join(lines)


def no_case_reason(problems: list[Problem]) -> str:
    """Why a scan found no case, from its problems.

    Example:
        >>> no_case_reason([Problem(f"/d/{i}.png", "not inside a label folder") for i in range(3)])
        'no case found: 3 files, none inside a label folder: use --layout unlabelled or a manifest'
    """
    loose = sum(p.reason == NOT_IN_LABEL_FOLDER for p in problems)
    if loose and loose == len(problems):
        return f"no case found: {loose} files, none inside a label folder: use --layout unlabelled or a manifest"
    if loose:
        return (f"no case found: {loose} files are not inside a label folder and the {len(problems) - loose} "
                "others are problems (below)")
    if problems:
        return f"no case found: none of the {len(problems)} files or folders below is a readable image"
    return "no case found: the folder holds no files"


def _by_kind(notes: list[Problem], top: int) -> list[str]:
    """One line per kind of note (most files first): how many, the kind, its first files' names."""
    kinds: dict[str, list[str]] = {}
    for note in notes:
        kinds.setdefault(message_kind(note.reason), []).append(Path(note.path).name)
    ranked = sorted(kinds.items(), key=lambda item: -len(item[1]))
    lines = []
    for kind, names in ranked[:top]:
        first = ", ".join(dict.fromkeys(names[:FIRST_FILES]))
        lines.append(f"  {len(names):>5}  {kind}: {first}{', ...' if len(names) > FIRST_FILES else ''}")
    if len(ranked) > top:
        rest = sum(len(names) for _, names in ranked[top:])
        lines.append(f"  {rest:>5}  of {len(ranked) - top} other kinds")
    return lines


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
