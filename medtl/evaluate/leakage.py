"""Patient leakage checks: no patient, study or identical image may be held out in two folds of one repeat."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from medtl.errors import LeakageError

if TYPE_CHECKING:
    from medtl.data.case_table import CaseTable
    from medtl.evaluate.splits import Splits

# Columns that tie cases together beyond patient_id, with the words used to name them in errors.
_LINKING_COLUMNS = {"study": "study (StudyInstanceUID)", "image_hash": "identical image content (hash)"}


def patient_fold_map(folds: list[list[str]], repeat: int = 0) -> dict[str, int]:
    """Map each patient id to the fold that holds it out; a patient listed in two folds raises `LeakageError`.

    Example:
        >>> patient_fold_map([["p1", "p2"], ["p3"]])
        {'p1': 0, 'p2': 0, 'p3': 1}
    """
    fold_of: dict[str, int] = {}
    for k, patients in enumerate(folds):
        for patient in patients:
            if patient in fold_of:
                where = f"folds {fold_of[patient]} and {k}" if fold_of[patient] != k else f"fold {k} twice"
                raise LeakageError(f"patient {patient!r} is listed in {where} (repeat {repeat}); "
                                   "every patient must be held out in exactly one fold")
            fold_of[patient] = k
    return fold_of


def check_leakage(splits: Splits, table: CaseTable | pd.DataFrame) -> None:
    """Refuse splits under which one patient, one study ('study' column) or one image content ('image_hash'
    column) would be held out in two different folds of any repeat.

    Raises `LeakageError` naming the offending patient / study / images; a table patient missing from every
    fold raises `ValueError` (the splits were made for another table).

    Example:
        >>> from medtl.evaluate.splits import Splits
        >>> df = pd.DataFrame({"case_id": ["a", "b"], "patient_id": ["p1", "p2"], "image": ["a.png", "b.png"],
        ...                    "study": ["s1", "s1"]})
        >>> try:
        ...     check_leakage(Splits(folds=[["p1"], ["p2"]]), df)
        ... except LeakageError as err:
        ...     print(str(err)[:44])
        study (StudyInstanceUID) 's1' is held out in
    """
    df = table.df if hasattr(table, "df") else table
    for r in range(splits.n_repeats):
        row_fold = pd.Series(splits.fold_of(df, repeat=r), index=df.index)  # refuses a patient in two folds
        for column, what in _LINKING_COLUMNS.items():
            if column in df:
                _check_linked(df, row_fold, column, what, r)


def _check_linked(df: pd.DataFrame, row_fold: pd.Series, column: str, what: str, repeat: int) -> None:
    linked = df[column].notna()
    spread = row_fold[linked].groupby(df.loc[linked, column]).nunique()
    if (spread > 1).any():
        value = spread.index[spread > 1][0]
        rows = df.index[df[column] == value]
        folds = sorted(int(f) for f in row_fold[rows].unique())
        patients = sorted(df.loc[rows, "patient_id"].unique())
        images = df.loc[rows, "image"].tolist()[:4]
        raise LeakageError(f"{what} {value!r} is held out in folds {folds} (repeat {repeat}) through patients "
                           f"{patients}; images {images}. The same person is probably filed under several patient "
                           f"ids: give these cases one patient_id")
