"""The segmentation cross-validation summary (a segmentation run's cv_summary.json) and its printed table.

Schema `medtl.seg_summary/1`. Dice is defined for cases whose reference mask has a lesion, HD95 for cases where
both masks do (undefined values are null and left out of the means). HD95 is in millimetres.

    schema              "medtl.seg_summary/1"
    task                "segmentation"
    hd95_units          "mm"
    ci_level, n_boot, seed
    counts              {"cases", "cases_with_lesion", "patients", "folds"}
    folds               [{"fold", "n_cases", "n_patients", "dice", "hd95"}, ...]: patient-level means per fold
    patient             each patient's cases averaged first, then the mean over patients, with a bootstrap CI
                        resampling patients: {"n_cases", "n_patients", "ci_level", "dice": {"mean", "ci", "n"},
                        "hd95": {...}} (`medtl.evaluate.summarize_segmentation`)
    case                the same over cases, the bootstrap resampling cases
"""
from __future__ import annotations

import pandas as pd

from medtl.evaluate import summarize_segmentation
from medtl.evaluate.summary import without_nan
from medtl.evaluate.tables import format_ci, format_number

SCHEMA = "medtl.seg_summary/1"


def seg_cv_summary(oof: pd.DataFrame, n_boot: int = 2000, seed: int = 0, alpha: float = 0.05) -> dict:
    """The cv_summary.json content for out-of-fold segmentation scores (columns case_id, patient_id, fold,
    dice, hd95, true_voxels); schema in this module's docstring.

    Example:
        >>> oof = pd.DataFrame({"case_id": list("abcd"), "patient_id": ["p", "p", "q", "r"], "fold": [0, 0, 1, 1],
        ...                     "dice": [0.8, 0.6, 0.9, None], "hd95": [2.0, 4.0, 1.0, None],
        ...                     "true_voxels": [9, 7, 5, 0]})
        >>> s = seg_cv_summary(oof, n_boot=50)
        >>> s["patient"]["dice"]["mean"], round(s["case"]["dice"]["mean"], 4), s["folds"][1]["dice"]
        (0.8, 0.7667, 0.9)
    """
    settings = {"n_boot": n_boot, "seed": seed, "alpha": alpha}
    folds = []
    for fold, scores in oof.groupby("fold"):
        means = summarize_segmentation(scores, n_boot=0)
        folds.append({"fold": int(fold), "n_cases": len(scores), "n_patients": int(scores["patient_id"].nunique()),
                      "dice": means["dice"]["mean"], "hd95": means["hd95"]["mean"]})
    summary = {
        "schema": SCHEMA, "task": "segmentation", "hd95_units": "mm", "ci_level": 1 - alpha, "n_boot": n_boot,
        "seed": seed,
        "counts": {"cases": len(oof), "cases_with_lesion": int((oof["true_voxels"] > 0).sum()),
                   "patients": int(oof["patient_id"].nunique()), "folds": len(folds)},
        "folds": folds,
        "patient": summarize_segmentation(oof, **settings),
        "case": summarize_segmentation(oof.assign(patient_id=oof["case_id"]), **settings),
    }
    return without_nan(summary)


def format_seg_summary(summary: dict) -> str:
    """A fixed-width table of a `seg_cv_summary` result (what `medtl cv` prints for segmentation).

    Example:
        >>> oof = pd.DataFrame({"case_id": list("ab"), "patient_id": list("pq"), "fold": [0, 1],
        ...                     "dice": [0.8, 0.6], "hd95": [2.0, 4.0], "true_voxels": [9, 7]})
        >>> print(format_seg_summary(seg_cv_summary(oof, n_boot=20)).splitlines()[0])
        Segmentation cross-validation, 2 folds: 2 cases (2 with a lesion), 2 patients; HD95 in mm
    """
    counts, ci = summary["counts"], f"{summary['ci_level']:.0%} CI"
    lines = [f"Segmentation cross-validation, {counts['folds']} folds: {counts['cases']} cases "
             f"({counts['cases_with_lesion']} with a lesion), {counts['patients']} patients; "
             f"HD95 in {summary['hd95_units']}",
             "", f"  {'fold':>6}  {'patients':>8}  {'cases':>6}  {'Dice':>6}  {'HD95':>7}"]
    for fold in summary["folds"]:
        lines.append(f"  {fold['fold']:>6}  {fold['n_patients']:>8}  {fold['n_cases']:>6}  "
                     f"{format_number(fold['dice']):>6}  {format_number(fold['hd95']):>7}")
    lines += ["", f"  {'out-of-fold':<14}  {'n':>4}  {'Dice':>6}  {ci + ' bootstrap':>18}  {'HD95':>7}  "
                  f"{ci + ' bootstrap':>18}"]
    for level in ("patient", "case"):
        entry = summary[level]
        dice, hd95 = entry["dice"], entry["hd95"]
        lines.append(f"  {level + ' level':<14}  {dice['n']:>4}  {format_number(dice['mean']):>6}  "
                     f"{format_ci(dice['ci']):>18}  {format_number(hd95['mean']):>7}  {format_ci(hd95['ci']):>18}")
    lines.append("  (n: patients or cases with a lesion; the bootstrap resamples patients at patient level, "
                 "cases at case level)")
    return "\n".join(lines)

