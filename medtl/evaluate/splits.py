"""Patient-grouped, label-stratified cross-validation folds (`Splits`, saved as a run's splits.json).

A patient's stratification label is the most frequent label among their images; a tie goes to the class that
is rarer in the whole table (usually the finding), then to the alphabetically first. `aggregate` uses the same
rule for a patient's reference label.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from medtl.data.case_table import CaseTable
from medtl.evaluate.leakage import patient_fold_map

SCHEMA = "medtl.splits/1"


@dataclass
class Splits:
    """Cross-validation folds as lists of held-out patient ids.

    `folds[k]` holds the patients held out in fold k. With repeated CV, `further_repeats[r - 1]` holds the
    folds of repeat r (made with seed `seed + r`); `all_repeats()` lists every repeat, the first being `folds`.
    Saved as JSON: `{"schema": "medtl.splits/1", "seed", "n_folds", "folds", "further_repeats"}`.

    Example:
        >>> s = Splits(folds=[["p1", "p3"], ["p2"]], seed=0)
        >>> s.n_folds, s.n_repeats
        (2, 1)
        >>> s.fold_of(pd.DataFrame({"patient_id": ["p2", "p1", "p2"]})).tolist()
        [1, 0, 1]
    """

    folds: list[list[str]]
    seed: int = 0
    further_repeats: list[list[list[str]]] = field(default_factory=list)

    @property
    def n_folds(self) -> int:
        return len(self.folds)

    @property
    def n_repeats(self) -> int:
        return 1 + len(self.further_repeats)

    def all_repeats(self) -> list[list[list[str]]]:
        """The folds of every repeat, first `folds` then `further_repeats`."""
        return [self.folds, *self.further_repeats]

    def fold_of(self, table: CaseTable | pd.DataFrame, repeat: int = 0) -> np.ndarray:
        """The fold index of every row of a case table (or any frame with a `patient_id` column).

        Raises `ValueError` naming the row of a patient that is in no fold, and `LeakageError` when the splits
        list a patient in two folds.
        """
        df = table.df if isinstance(table, CaseTable) else table
        fold_map = patient_fold_map(self.all_repeats()[repeat], repeat=repeat)
        folds = df["patient_id"].map(fold_map)
        if folds.isna().any():
            row = int(np.flatnonzero(folds.isna().to_numpy())[0])
            missing = sorted(df.loc[folds.isna(), "patient_id"].unique())
            image = f" (image {df['image'].iloc[row]!r})" if "image" in df else ""
            raise ValueError(f"patient(s) {missing[:5]} (first at row {row}{image}) are in no fold of the splits "
                             f"({len(missing)} patients in all); the splits were made for a different case table")
        return folds.to_numpy(dtype=int)

    def to_json(self, path: str | Path) -> Path:
        """Write the splits as JSON (see the class docstring for the layout)."""
        path = Path(path)
        payload = {"schema": SCHEMA, "seed": self.seed, "n_folds": self.n_folds, "folds": self.folds,
                   "further_repeats": self.further_repeats}
        path.write_text(json.dumps(payload, indent=1) + "\n")
        return path

    @classmethod
    def from_json(cls, path: str | Path) -> "Splits":
        """Read splits written by `to_json`; a malformed file raises `ValueError` naming it."""
        path = Path(path)
        try:
            payload = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        if not isinstance(payload, dict) or payload.get("schema") != SCHEMA:
            raise ValueError(f"{path}: not a medtl splits file (expected \"schema\": \"{SCHEMA}\")")
        repeats = [payload.get("folds"), *payload.get("further_repeats", [])]
        for r, folds in enumerate(repeats):
            if not isinstance(folds, list) or len(folds) < 2 or not all(isinstance(f, list) for f in folds):
                raise ValueError(f"{path}: repeat {r} must be a list of at least two folds of patient ids")
        as_str = [[[str(p) for p in fold] for fold in folds] for folds in repeats]
        return cls(folds=as_str[0], seed=int(payload.get("seed", 0)), further_repeats=as_str[1:])


def patient_labels(frame: pd.DataFrame, keys: tuple[str, ...] = ("patient_id",)) -> pd.Series:
    """The reference label of each group of rows (a patient by default): the most frequent label, ties going to
    the class rarer in `frame`, then to the alphabetically first.

    Example:
        >>> df = pd.DataFrame({"patient_id": ["a", "a", "b", "c"], "label": ["ill", "ok", "ok", "ok"]})
        >>> patient_labels(df).to_dict()
        {'a': 'ill', 'b': 'ok', 'c': 'ok'}
    """
    counts = pd.crosstab([frame[k] for k in keys], frame["label"])
    totals = frame["label"].value_counts()
    rare_first = sorted(counts.columns, key=lambda label: (totals[label], label))
    return counts[rare_first].idxmax(axis=1)


def check_feasible(table: CaseTable, folds: int) -> dict[str, int]:
    """Refuse a table that cannot give `folds` patient-grouped stratified folds with every class in each.

    Returns the number of patients per class (by `patient_labels`). Raises `ValueError` stating those numbers
    and what is needed when a case has no label, there is a single class, or some class has fewer patients than
    folds.

    Example:
        >>> df = pd.DataFrame({"case_id": list("abcd"), "patient_id": ["p1", "p2", "p3", "p4"],
        ...                    "image": list("abcd"), "label": ["x", "x", "y", "y"]})
        >>> check_feasible(CaseTable(df), folds=2)
        {'x': 2, 'y': 2}
    """
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds; got folds={folds}")
    df = _labelled(table)
    per_class = patient_labels(df).value_counts().sort_index()
    counts = {str(label): int(n) for label, n in per_class.items()}
    listed = ", ".join(f"{label}: {n}" for label, n in counts.items())
    if len(counts) < 2:
        raise ValueError(f"only one class in the table ({listed} patients); a classifier needs at least two classes "
                         f"with at least {folds} patients each for {folds}-fold cross-validation")
    short = {label: n for label, n in counts.items() if n < folds}
    if short:
        raise ValueError(f"{folds}-fold patient-grouped cross-validation needs at least {folds} patients of every "
                         f"class; patients per class: {listed}. Too few: {', '.join(short)}. Add patients or use "
                         f"at most {min(counts.values())} folds")
    return counts


def make_splits(table: CaseTable, folds: int = 5, seed: int = 0, repeats: int = 1) -> Splits:
    """Patient-grouped, label-stratified K-fold splits (scikit-learn `StratifiedGroupKFold`, shuffled).

    The splitter sees one row per patient (labelled by `patient_labels`), so every image of a patient lands in
    the same fold and each class's patients are spread evenly: once `check_feasible` passes (it is called first),
    every fold holds out at least one patient of every class. Repeat r uses seed `seed + r`.

    Example:
        >>> df = pd.DataFrame({"case_id": list("abcdef"), "patient_id": ["p1", "p1", "p2", "p3", "p4", "p5"],
        ...                    "image": list("abcdef"), "label": ["x", "x", "x", "x", "y", "y"]})
        >>> s = make_splits(CaseTable(df), folds=2, seed=0)
        >>> sorted(p for fold in s.folds for p in fold)
        ['p1', 'p2', 'p3', 'p4', 'p5']
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1; got {repeats}")
    check_feasible(table, folds)
    strata = patient_labels(_labelled(table))
    all_repeats = [_split_once(strata, folds, seed + r) for r in range(repeats)]
    return Splits(folds=all_repeats[0], seed=seed, further_repeats=all_repeats[1:])


def inner_split(table: CaseTable, train_patients: list[str], seed: int = 0,
                val_fraction: float = 0.2) -> tuple[list[str], list[str]]:
    """A patient-grouped, stratified holdout inside a training fold (for early stopping / model selection).

    Returns sorted (train_patient_ids, validation_patient_ids); each class has at least one patient on each side.

    Example:
        >>> df = pd.DataFrame({"case_id": list("abcdef"), "patient_id": list("uvwxyz"), "image": list("abcdef"),
        ...                    "label": ["x", "x", "x", "y", "y", "y"]})
        >>> train, val = inner_split(CaseTable(df), list("uvwxyz"), seed=0, val_fraction=0.3)
        >>> len(train), len(val)
        (4, 2)
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1; got {val_fraction}")
    df = _labelled(table)
    labels = patient_labels(df)
    unknown = sorted(set(train_patients) - set(labels.index))
    if unknown:
        raise ValueError(f"training patients {unknown[:5]} are not in the case table")
    patients = sorted(set(train_patients))
    strata = labels[patients]
    per_class = strata.value_counts().sort_index()
    n_classes = len(per_class)
    if n_classes < 2 or per_class.min() < 2:
        listed = ", ".join(f"{label}: {n}" for label, n in per_class.items())
        raise ValueError(f"an inner validation split needs at least 2 training patients of each of at least 2 "
                         f"classes; this training fold has {listed}")
    n_val = min(max(n_classes, round(val_fraction * len(patients))), len(patients) - n_classes)
    train, val = train_test_split(patients, test_size=n_val, stratify=strata.to_numpy(), random_state=seed)
    return sorted(train), sorted(val)


def _labelled(table: CaseTable) -> pd.DataFrame:
    df = table.df
    if "label" not in df:
        raise ValueError("the case table has no label column; cross-validation needs a label on every case")
    missing = df["label"].isna()
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise ValueError(f"row {row} (image {df['image'].iloc[row]!r}) has no label; "
                         f"cross-validation needs a label on every case ({int(missing.sum())} unlabelled)")
    return df


def _split_once(strata: pd.Series, folds: int, seed: int) -> list[list[str]]:
    """Folds of patient ids from one label per patient (the index of `strata`)."""
    patients = strata.index.to_numpy()
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    held_out = splitter.split(np.zeros(len(patients)), strata.to_numpy(), groups=patients)
    return [sorted(str(p) for p in patients[test]) for _, test in held_out]
