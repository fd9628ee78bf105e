"""Paired comparison of two segmentation runs on the same patients (e.g. pretrained vs from scratch): mean
patient Dice of each, the mean of the paired per-patient differences with a patient bootstrap CI, and the
Wilcoxon signed-rank test of those differences (scipy).

Only patients with a lesion count: Dice is undefined on a volume without one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from medtl.evaluate.bootstrap import cluster_weights, percentile_ci


def compare_dice(oof_a: pd.DataFrame, oof_b: pd.DataFrame, n_boot: int = 2000, seed: int = 0,
                 alpha: float = 0.05) -> dict:
    """Compare the out-of-fold Dice of two runs (tables with case_id, patient_id, dice) patient by patient.

    Returns {"n_patients", "a": {"dice", "bootstrap_ci"}, "b": {...}, "difference": {"dice" (A - B),
    "bootstrap_ci", "p_value" (Wilcoxon signed-rank, two-sided)}}.

    Example:
        >>> a = pd.DataFrame({"case_id": list("abcd"), "patient_id": list("pqrs"), "dice": [.8, .7, .9, np.nan]})
        >>> b = a.assign(dice=[.5, .6, .4, np.nan])
        >>> result = compare_dice(a, b, n_boot=200)
        >>> result["n_patients"], round(result["difference"]["dice"], 3)
        (3, 0.3)
    """
    per_patient = []
    for oof in (oof_a, oof_b):
        if set(oof["case_id"]) != set(oof_a["case_id"]):
            raise ValueError("the runs scored different cases; a paired comparison needs the same cases")
        per_patient.append(oof.groupby("patient_id")["dice"].mean())
    both = pd.concat(per_patient, axis=1, keys=["a", "b"]).dropna()
    if both.empty:
        raise ValueError("no patient with a lesion in both runs: Dice cannot be compared")
    values = {arm: both[arm].to_numpy() for arm in ("a", "b")}
    values["difference"] = values["a"] - values["b"]
    weights = list(cluster_weights(None, len(both), n_boot, seed))
    result: dict = {"n_patients": len(both)}
    for arm, v in values.items():
        means = np.array([np.average(v, weights=w) for w in weights])
        result[arm] = {"dice": float(v.mean()), "bootstrap_ci": list(percentile_ci(means, alpha))}
    differences = values["difference"]
    result["difference"]["p_value"] = float(wilcoxon(differences).pvalue) if np.any(differences != 0) else 1.0
    return result
