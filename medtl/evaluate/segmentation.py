"""Segmentation metrics: Dice and 95th-percentile Hausdorff distance per case (MONAI), and the per-patient
mean with a patient-bootstrap CI."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from monai.metrics import compute_dice, compute_hausdorff_distance

from medtl.evaluate.bootstrap import cluster_weights, percentile_ci


def segmentation_metrics(pred_masks: Sequence[np.ndarray], true_masks: Sequence[np.ndarray],
                         spacing: Sequence[float] | Sequence[Sequence[float]] | None = None,
                         case_ids: Sequence[str] | None = None,
                         patient_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Dice and HD95 of each case's binary mask (MONAI `compute_dice`, `compute_hausdorff_distance`).

    Masks are 2D or 3D arrays (nonzero = foreground), one pair per case with equal shapes. `spacing` is one
    voxel size for all cases or one per case; HD95 is then in those units (e.g. mm), otherwise in voxels.
    Dice is NaN when the reference mask is empty; HD95 is NaN when either mask is empty.

    Returns columns `case_id`, [`patient_id`], `dice`, `hd95`.

    Example:
        >>> truth = np.zeros((16, 16), bool); truth[4:8, 4:8] = True
        >>> pred = np.zeros((16, 16), bool); pred[6:10, 4:8] = True
        >>> segmentation_metrics([pred], [truth], spacing=(2.0, 1.0))[["dice", "hd95"]].to_dict("records")
        [{'dice': 0.5, 'hd95': 4.0}]
    """
    if len(pred_masks) != len(true_masks):
        raise ValueError(f"{len(pred_masks)} predicted masks for {len(true_masks)} reference masks")
    case_ids = [str(i) for i in range(len(true_masks))] if case_ids is None else [str(c) for c in case_ids]
    spacings = _per_case_spacing(spacing, len(true_masks))
    rows = []
    for case_id, pred, truth, case_spacing in zip(case_ids, pred_masks, true_masks, spacings):
        pred_t, truth_t = _as_batch(pred), _as_batch(truth)
        if pred_t.shape != truth_t.shape:
            raise ValueError(f"case {case_id!r}: predicted mask shape {tuple(pred_t.shape[2:])} differs from the "
                             f"reference mask shape {tuple(truth_t.shape[2:])}")
        dice = float(compute_dice(pred_t, truth_t, include_background=True, ignore_empty=True))
        hd95 = float("nan")  # a surface distance to an empty mask is undefined
        if pred_t.any() and truth_t.any():
            hd95 = float(compute_hausdorff_distance(pred_t, truth_t, include_background=True, percentile=95,
                                                    spacing=case_spacing))
        rows.append({"case_id": case_id, "dice": dice, "hd95": hd95})
    table = pd.DataFrame(rows, columns=["case_id", "dice", "hd95"])
    if patient_ids is not None:
        table.insert(1, "patient_id", [str(p) for p in patient_ids])
    return table


def summarize_segmentation(per_case: pd.DataFrame, n_boot: int = 2000, seed: int = 0, alpha: float = 0.05) -> dict:
    """Mean Dice and HD95 over patients (each patient first averaged over their cases, NaN ignored), with a
    bootstrap CI resampling patients. Needs the `patient_id` column of `segmentation_metrics`.

    Returns `{"n_cases", "n_patients", "ci_level", "dice": {"mean", "ci", "n"}, "hd95": {...}}` where `n` counts the
    patients with a defined value.

    Example:
        >>> per_case = pd.DataFrame({"case_id": list("abc"), "patient_id": ["p", "p", "q"],
        ...                          "dice": [0.8, 0.6, 0.9], "hd95": [2.0, 4.0, 1.0]})
        >>> summarize_segmentation(per_case, n_boot=100)["dice"]["mean"]
        0.8
    """
    if "patient_id" not in per_case:
        raise ValueError("per-case metrics need a patient_id column (pass patient_ids to segmentation_metrics)")
    per_patient = per_case.groupby("patient_id")[["dice", "hd95"]].mean()
    summary: dict = {"n_cases": len(per_case), "n_patients": len(per_patient), "ci_level": 1 - alpha}
    for metric in ("dice", "hd95"):
        values = per_patient[metric].dropna().to_numpy()
        if not len(values):
            summary[metric] = {"mean": None, "ci": None, "n": 0}
            continue
        means = [np.average(values, weights=w) for w in cluster_weights(None, len(values), n_boot, seed)]
        summary[metric] = {"mean": float(values.mean()), "ci": list(percentile_ci(np.array(means), alpha)),
                           "n": len(values)}
    return summary


def _as_batch(mask: np.ndarray) -> torch.Tensor:
    array = np.asarray(mask)
    if array.ndim not in (2, 3):
        raise ValueError(f"a mask must be 2D or 3D; got shape {array.shape}")
    return torch.as_tensor(array != 0, dtype=torch.float32)[None, None]


def _per_case_spacing(spacing: Sequence[float] | Sequence[Sequence[float]] | None,
                      n_cases: int) -> list[Sequence[float] | None]:
    if spacing is None:
        return [None] * n_cases
    array = np.asarray(spacing, dtype=float)
    if array.ndim == 1:
        return [array.tolist()] * n_cases
    if array.ndim == 2 and len(array) == n_cases:
        return [row.tolist() for row in array]
    raise ValueError(f"spacing must be one voxel size or one per case ({n_cases}); got shape {array.shape}")
