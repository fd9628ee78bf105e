"""Paired comparison of two cross-validated runs on the same patient folds (e.g. pretrained vs from scratch).

Both runs' out-of-fold predictions are joined case by case, aggregated per patient, and compared with DeLong's
paired test (binary) and a paired patient bootstrap of the AUC difference.

JSON schema `medtl.compare/1`: `run_a`, `run_b`, `level` ("patient"), `aggregate`, `classes`, `positive`,
`ci_level`, `n_boot`, `seed`, `n_cases`, `n_patients`; `a` and `b`: `{"n", "auc", "per_class", "delong_ci",
"bootstrap_ci"}` as in cv_summary.json; `difference`: `{"auc"` (A - B), `"bootstrap_ci"`, `"delong_ci"`, `"z"`,
`"p_value"}` (DeLong entries are null for multi-class problems).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from medtl.evaluate.aggregate import aggregate, auc_inputs, prediction_classes, resolve_positive
from medtl.evaluate.auc import paired_bootstrap_diff
from medtl.evaluate.delong import delong_paired_test
from medtl.evaluate.splits import Splits
from medtl.evaluate.summary import auc_with_cis, without_nan

SCHEMA = "medtl.compare/1"
_ID_COLUMNS = {"case_id": str, "patient_id": str, "label": str, "study": str, "series": str}


def compare_runs(run_a: str | Path, run_b: str | Path, aggregate_how: str | None = None, n_boot: int = 2000,
                 seed: int = 0, alpha: float = 0.05) -> dict:
    """Compare the pooled out-of-fold patient-level AUCs of two run folders that used identical splits.

    `aggregate_how` defaults to the one recorded in RUN_A's cv_summary.json (else "mean"); the positive class
    too (else the second class). Refuses runs whose splits.json differ or whose predictions cover other cases.

    Example:
        >>> result = compare_runs("runs/pretrained", "runs/scratch")  # doctest: +SKIP
        >>> result["difference"]["p_value"]  # doctest: +SKIP
        0.012
    """
    run_a, run_b = Path(run_a), Path(run_b)
    _check_same_splits(run_a, run_b)
    pred_a, pred_b = _read_predictions(run_a), _read_predictions(run_b)
    _check_same_cases(pred_a, pred_b, run_a, run_b)
    recorded = _recorded_summary(run_a)
    result = compare_predictions(pred_a, pred_b, aggregate_how or recorded.get("aggregate", "mean"),
                                 recorded.get("positive"), n_boot, seed, alpha)
    return {"schema": SCHEMA, "run_a": str(run_a), "run_b": str(run_b), **result}


def compare_predictions(pred_a: pd.DataFrame, pred_b: pd.DataFrame, aggregate_how: str = "mean",
                        positive: str | None = None, n_boot: int = 2000, seed: int = 0, alpha: float = 0.05) -> dict:
    """Paired patient-level comparison of two out-of-fold prediction tables over the same cases (the body of
    `compare_runs`, for predictions gathered from several runs, e.g. one per target seed).

    Example:
        >>> pred = pd.DataFrame({"case_id": list("abcd"), "patient_id": list("wxyz"), "fold": 0,
        ...                      "label": ["n", "y"] * 2, "y_true": [0, 1, 0, 1], "p_n": [.9, .2, .6, .3], "p_y": [.1, .8, .4, .7]})
        >>> compare_predictions(pred, pred, n_boot=20)["difference"]["auc"]
        0.0
    """
    classes = prediction_classes(pred_a)
    if prediction_classes(pred_b) != classes:
        raise ValueError(f"the runs predict different classes: {classes} and {prediction_classes(pred_b)}")
    positive = resolve_positive(classes, positive)
    patients_a = aggregate(pred_a, how=aggregate_how, positive=positive)
    patients_b = (aggregate(pred_b, how=aggregate_how, positive=positive).set_index("patient_id")
                  .loc[patients_a["patient_id"]])
    y, scores_a = auc_inputs(patients_a, classes, positive)
    _, scores_b = auc_inputs(patients_b, classes, positive)
    groups = patients_a["patient_id"]
    diff, lo, hi = paired_bootstrap_diff(y, scores_a, scores_b, groups.to_numpy(), n_boot, seed, alpha)
    difference = {"auc": diff, "bootstrap_ci": [lo, hi], "delong_ci": None, "z": None, "p_value": None}
    if positive is not None:
        test = delong_paired_test(y, scores_a, scores_b, alpha)
        difference.update(delong_ci=test["ci"], z=test["z"], p_value=test["p_value"])
    return without_nan({
        "level": "patient", "aggregate": aggregate_how, "classes": classes, "positive": positive,
        "ci_level": 1 - alpha, "n_boot": n_boot, "seed": seed, "n_cases": len(pred_a), "n_patients": len(patients_a),
        "a": auc_with_cis(y, scores_a, groups, classes, n_boot, seed, alpha),
        "b": auc_with_cis(y, scores_b, groups, classes, n_boot, seed, alpha),
        "difference": difference,
    })


def _read_predictions(run: Path) -> pd.DataFrame:
    path = run / "oof_predictions.csv"
    if not path.is_file():
        raise ValueError(f"{run} is not a finished medtl run: {path.name} is missing")
    pred = pd.read_csv(path, dtype=_ID_COLUMNS)
    try:
        prediction_classes(pred)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return pred


def _check_same_splits(run_a: Path, run_b: Path) -> None:
    splits = []
    for run in (run_a, run_b):
        path = run / "splits.json"
        if not path.is_file():
            raise ValueError(f"{run} is not a finished medtl run: splits.json is missing")
        splits.append(Splits.from_json(path))
    partitions = [[{frozenset(f) for f in folds} for folds in s.all_repeats()] for s in splits]
    if partitions[0] == partitions[1]:
        return
    held_out = [{p: frozenset(f) for f in s.folds for p in f} for s in splits]
    differing = sorted(p for p in held_out[0].keys() | held_out[1].keys()
                       if held_out[0].get(p) != held_out[1].get(p))
    if not differing:
        raise ValueError(f"{run_a} and {run_b} differ in their repeated folds (splits.json); a paired comparison "
                         "needs identical splits")
    raise ValueError(f"{run_a} and {run_b} were cross-validated on different patient folds (e.g. patient "
                     f"{differing[0]!r} is held out with different patients, or in one run only); a paired "
                     f"comparison needs identical splits: rerun {run_b.name} with {run_a / 'splits.json'}")


def _check_same_cases(pred_a: pd.DataFrame, pred_b: pd.DataFrame, run_a: Path, run_b: Path) -> None:
    merged = pred_a[["case_id", "patient_id", "label"]].merge(
        pred_b[["case_id", "patient_id", "label"]], on="case_id", how="outer", suffixes=("_a", "_b"), indicator=True)
    only = merged[merged["_merge"] != "both"]
    if len(only):
        row = only.iloc[0]
        where = run_a if row["_merge"] == "left_only" else run_b
        raise ValueError(f"case {row['case_id']!r} is predicted only in {where} (cases not in both runs: "
                         f"{len(only)}); a paired comparison needs the same cases")
    for column in ("patient_id", "label"):
        clash = merged[merged[f"{column}_a"] != merged[f"{column}_b"]]
        if len(clash):
            row = clash.iloc[0]
            raise ValueError(f"case {row['case_id']!r} has {column} {row[column + '_a']!r} in {run_a} but "
                             f"{row[column + '_b']!r} in {run_b}")


def _recorded_summary(run: Path) -> dict:
    path = run / "cv_summary.json"
    return json.loads(path.read_text()) if path.is_file() else {}

