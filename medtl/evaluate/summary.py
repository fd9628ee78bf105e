"""The cross-validation summary: the content of a run's cv_summary.json (printed by `tables.format_summary`).

Schema `medtl.cv_summary/1`. Every AUC is labelled by level: "patient" (after aggregating a patient's images
with `aggregate`) or "image" (one row per case). Undefined numbers (e.g. the AUC of a fold lacking a class) are
null. CIs are [lo, hi] at level 1 - alpha.

    schema              "medtl.cv_summary/1"
    task                "binary" | "multiclass"
    classes             class names; y_true indexes this list
    positive            binary: the positive class; multiclass: null
    aggregate           how images were combined per patient: "mean" | "max" | "noisy_or"
    ci_level            1 - alpha (0.95 by default)
    n_boot, seed        bootstrap resamples and their seed
    counts              {"cases", "patients", "folds", "cases_per_class": {class: n},
                         "patients_per_class": {class: n}}   (a patient's class follows `patient_labels`)
    folds               [{"fold", "n_cases", "n_patients", "auc_patient", "auc_image"}, ...]; multiclass AUCs are
                        the macro average of the one-vs-rest AUCs
    auc_over_folds      {"patient": {"mean", "sd", "n_folds"}, "image": {...}}: spread across folds (sd with
                        ddof=1 over the folds whose AUC is defined)
    pooled              {"patient": LEVEL, "image": LEVEL}: all out-of-fold predictions together, where LEVEL is
                        {"n", "auc", "per_class": {class: auc} (multiclass; null for binary),
                         "delong_ci" (binary; null for multiclass; at image level it treats images as
                         independent, so it is too narrow when patients have several images),
                         "bootstrap_ci" (resampling patients with replacement at both levels)}
    brier               {"patient", "image"}: Brier score (binary 0 to 1; multiclass summed over classes, 0 to 2)
    operating_points    binary, patient level: {"youden": {"threshold", "sensitivity", "specificity"},
                         "at_specificity": {"threshold", "sensitivity", "specificity", "target_specificity"}};
                        multiclass: null. A patient is called positive when its probability >= threshold.
    confusion           patient level: {"rule": "youden threshold" | "argmax", "threshold" (binary),
                         "labels": class names in row/column order, "matrix": rows = truth, columns = call}
    reliability         binary, patient level: {"n_bins", "mean_predicted": [...], "fraction_positive": [...]}
    roc                 binary, patient level: {"fpr": [...], "tpr": [...]}
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, roc_curve

from medtl.evaluate.aggregate import aggregate, auc_inputs, prediction_classes, resolve_positive
from medtl.evaluate.auc import auc, auc_value, bootstrap_auc_ci
from medtl.evaluate.calibration import brier, reliability
from medtl.evaluate.delong import delong_auc_ci
from medtl.evaluate.thresholds import confusion_at, point_at_specificity, youden_point

SCHEMA = "medtl.cv_summary/1"


def summarize_cv(pred: pd.DataFrame, classes: list[str], positive: str | None = None, aggregate_how: str = "mean",
                 specificity: float = 0.9, n_boot: int = 2000, seed: int = 0, alpha: float = 0.05) -> dict:
    """The cv_summary.json content for out-of-fold predictions (schema in this module's docstring).

    Example:
        >>> pred = pd.DataFrame({"case_id": list("abcdef"), "patient_id": list("uvwxyz"), "fold": [0, 0, 0, 1, 1, 1],
        ...     "label": ["ok", "ill", "ill", "ok", "ill", "ok"], "y_true": [0, 1, 1, 0, 1, 0],
        ...     "p_ok": [.8, .3, .6, .7, .2, .4], "p_ill": [.2, .7, .4, .3, .8, .6]})
        >>> s = summarize_cv(pred, ["ok", "ill"], positive="ill", n_boot=50)
        >>> s["schema"], round(s["pooled"]["patient"]["auc"], 4)
        ('medtl.cv_summary/1', 0.8889)
    """
    found = prediction_classes(pred)
    if found != list(classes):
        raise ValueError(f"the predictions' p_ columns give classes {found}, but classes={list(classes)}")
    positive = resolve_positive(list(classes), positive)
    binary = positive is not None
    patients = aggregate(pred, how=aggregate_how, level="patient", positive=positive)
    absent = [c for i, c in enumerate(classes) if not (patients["y_true"] == i).any()]
    if absent:
        raise ValueError(f"no patient of class(es) {absent} in the predictions; AUC needs every class present")
    image_y, image_s = auc_inputs(pred, classes, positive)
    patient_y, patient_s = auc_inputs(patients, classes, positive)
    settings = {"n_boot": n_boot, "seed": seed, "alpha": alpha}
    folds = _per_fold(pred, patients, image_y, image_s, patient_y, patient_s)
    summary = {
        "schema": SCHEMA, "task": "binary" if binary else "multiclass", "classes": list(classes),
        "positive": positive, "aggregate": aggregate_how, "ci_level": 1 - alpha, "n_boot": n_boot, "seed": seed,
        "counts": _counts(pred, patients, classes),
        "folds": folds,
        "auc_over_folds": {level: _spread([f[f"auc_{level}"] for f in folds]) for level in ("patient", "image")},
        "pooled": {
            "patient": auc_with_cis(patient_y, patient_s, patients["patient_id"], classes, **settings),
            "image": auc_with_cis(image_y, image_s, pred["patient_id"], classes, **settings),
        },
        "brier": {"patient": brier(patients["y_true"], _probs(patients, classes)),
                  "image": brier(pred["y_true"], _probs(pred, classes))},
    }
    summary.update(_binary_extras(patient_y, patient_s, classes, positive, specificity) if binary else
                   _multiclass_extras(patients, classes))
    return without_nan(summary)


def auc_with_cis(y: np.ndarray, scores: np.ndarray, groups: pd.Series, classes: list[str], n_boot: int = 2000,
                 seed: int = 0, alpha: float = 0.05) -> dict:
    """`{"n", "auc", "per_class", "delong_ci", "bootstrap_ci"}` (the "pooled" entries of the schema) for inputs in
    the conventions of `medtl.evaluate.auc`; `groups` are the bootstrap clusters (patients).

    Example:
        >>> y = np.array([0, 0, 1, 1]); p = np.array([0.1, 0.4, 0.35, 0.8])
        >>> auc_with_cis(y, p, pd.Series(list("abcd")), ["ok", "ill"], n_boot=50)["auc"]
        0.75
    """
    result = auc(y, scores, classes)
    binary = scores.ndim == 1
    return {"n": len(y), "auc": result["auc"], "per_class": None if binary else result["per_class"],
            "delong_ci": list(delong_auc_ci(y, scores, alpha)[2:]) if binary else None,
            "bootstrap_ci": list(bootstrap_auc_ci(y, scores, groups.to_numpy(), n_boot, seed, alpha))}


def without_nan(value: object) -> object:
    """The same nested dicts/lists with NaN replaced by None, so the JSON written stays standard.

    Example:
        >>> without_nan({"auc": float("nan"), "ci": [0.5, 1.0]})
        {'auc': None, 'ci': [0.5, 1.0]}
    """
    if isinstance(value, dict):
        return {k: without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nan(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _probs(frame: pd.DataFrame, classes: list[str]) -> np.ndarray:
    return frame[[f"p_{c}" for c in classes]].to_numpy(dtype=float)


def _counts(pred: pd.DataFrame, patients: pd.DataFrame, classes: list[str]) -> dict:
    return {"cases": len(pred), "patients": len(patients), "folds": int(pred["fold"].nunique()),
            "cases_per_class": {c: int((pred["label"] == c).sum()) for c in classes},
            "patients_per_class": {c: int((patients["label"] == c).sum()) for c in classes}}


def _per_fold(pred: pd.DataFrame, patients: pd.DataFrame, image_y: np.ndarray, image_s: np.ndarray,
              patient_y: np.ndarray, patient_s: np.ndarray) -> list[dict]:
    rows = []
    for fold in sorted(pred["fold"].unique()):
        in_images, in_patients = (pred["fold"] == fold).to_numpy(), (patients["fold"] == fold).to_numpy()
        rows.append({"fold": int(fold), "n_cases": int(in_images.sum()), "n_patients": int(in_patients.sum()),
                     "auc_patient": auc_value(patient_y[in_patients], patient_s[in_patients]),
                     "auc_image": auc_value(image_y[in_images], image_s[in_images])})
    return rows


def _spread(values: list[float]) -> dict:
    defined = np.array([v for v in values if not math.isnan(v)])
    return {"mean": float(defined.mean()) if len(defined) else float("nan"),
            "sd": float(defined.std(ddof=1)) if len(defined) > 1 else float("nan"), "n_folds": len(defined)}


def _binary_extras(y: np.ndarray, p: np.ndarray, classes: list[str], positive: str, specificity: float) -> dict:
    youden = youden_point(y, p)
    fpr, tpr, _ = roc_curve(y, p)
    negative = classes[1 - classes.index(positive)]
    return {"operating_points": {"youden": youden, "at_specificity": point_at_specificity(y, p, specificity)},
            "confusion": {"rule": "youden threshold", "threshold": youden["threshold"], "labels": [negative, positive],
                          "matrix": confusion_at(y, p, youden["threshold"]).tolist()},
            "reliability": reliability(y, p), "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist()}}


def _multiclass_extras(patients: pd.DataFrame, classes: list[str]) -> dict:
    called = _probs(patients, classes).argmax(axis=1)
    matrix = confusion_matrix(patients["y_true"].to_numpy(dtype=int), called, labels=list(range(len(classes))))
    return {"operating_points": None, "reliability": None, "roc": None,
            "confusion": {"rule": "argmax", "threshold": None, "labels": list(classes), "matrix": matrix.tolist()}}
