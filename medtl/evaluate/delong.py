"""DeLong's nonparametric variance of the ROC AUC, and the paired test of two correlated AUCs.

Written by hand (scikit-learn has no AUC variance). References: DeLong, DeLong & Clarke-Pearson (1988),
"Comparing the areas under two or more correlated receiver operating characteristic curves: a nonparametric
approach", Biometrics 44:837-845; the O(n log n) midrank algorithm of Sun & Xu (2014), "Fast implementation of
DeLong's algorithm for comparing the areas under correlated receiver operating characteristic curves",
IEEE Signal Processing Letters 21(11):1389-1393.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import norm, rankdata


def structural_components(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DeLong's placement values for k score vectors on the same cases (Sun & Xu midrank form).

    `y` is 0/1 (1 = positive), `scores` is (k, n) or (n,). Returns (auc (k,), v10 (k, m positives),
    v01 (k, n negatives)): v10[i] is the fraction of negatives ranked below positive i (ties count half), v01[j]
    the fraction of positives ranked above negative j.

    Example:
        >>> aucs, v10, v01 = structural_components(np.array([0, 1, 1]), np.array([0.2, 0.1, 0.9]))
        >>> aucs.tolist(), v10.tolist(), v01.tolist()
        ([0.5], [[0.0, 1.0]], [[0.5]])
    """
    positive = _binary(y)
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    pos, neg = scores[:, positive], scores[:, ~positive]
    m, n = pos.shape[1], neg.shape[1]
    rank_all = rankdata(np.hstack([pos, neg]), axis=1)  # midranks: ties share the average rank
    rank_pos, rank_neg = rankdata(pos, axis=1), rankdata(neg, axis=1)
    aucs = (rank_all[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    v10 = (rank_all[:, :m] - rank_pos) / n
    v01 = 1.0 - (rank_all[:, m:] - rank_neg) / m
    return aucs, v10, v01


def delong_covariance(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The AUCs of k score vectors and their (k, k) DeLong covariance matrix S10/m + S01/n.

    Example:
        >>> aucs, cov = delong_covariance(np.array([0, 0, 1, 1]), np.array([[0.1, 0.4, 0.35, 0.8]]))
        >>> float(aucs[0]), cov.shape
        (0.75, (1, 1))
    """
    aucs, v10, v01 = structural_components(y, scores)
    s10 = np.atleast_2d(np.cov(v10))
    s01 = np.atleast_2d(np.cov(v01))
    return aucs, s10 / v10.shape[1] + s01 / v01.shape[1]


def delong_auc_ci(y: np.ndarray, p: np.ndarray, alpha: float = 0.05) -> tuple[float, float, float, float]:
    """(auc, variance, lo, hi): the AUC with DeLong's variance and the normal (1 - alpha) CI, clipped to [0, 1].

    Example:
        >>> auc, var, lo, hi = delong_auc_ci(np.array([0, 0, 1, 1, 0, 1]), np.array([.2, .6, .5, .9, .1, .7]))
        >>> round(auc, 4), lo < auc < hi
        (0.8889, True)
    """
    aucs, cov = delong_covariance(y, p)
    auc, var = float(aucs[0]), float(cov[0, 0])
    half = norm.ppf(1 - alpha / 2) * np.sqrt(var)
    return auc, var, float(max(0.0, auc - half)), float(min(1.0, auc + half))


def delong_paired_test(y: np.ndarray, p_a: np.ndarray, p_b: np.ndarray, alpha: float = 0.05) -> dict:
    """DeLong's test of AUC(a) = AUC(b) for two scores of the same cases.

    Returns `{"auc_a", "auc_b", "diff" (a - b), "z", "p_value" (two-sided), "ci" ([lo, hi] of the difference)}`.
    Identical scores give z = 0 and p = 1.

    Example:
        >>> y = np.array([0, 0, 0, 1, 1, 1])
        >>> r = delong_paired_test(y, np.array([.1, .2, .3, .7, .8, .9]), np.array([.1, .5, .3, .4, .8, .6]))
        >>> round(r["diff"], 4), 0 < r["p_value"] < 1
        (0.1111, True)
    """
    aucs, cov = delong_covariance(y, np.vstack([p_a, p_b]))
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    sd = np.sqrt(max(var, 0.0))
    if sd > 0.0:
        z, p_value = diff / sd, float(2 * norm.sf(abs(diff / sd)))
    else:  # both AUCs are exact (no spread): the difference is either none or certain
        z, p_value = (0.0, 1.0) if diff == 0.0 else (float(np.copysign(np.inf, diff)), 0.0)
    half = norm.ppf(1 - alpha / 2) * sd
    return {"auc_a": float(aucs[0]), "auc_b": float(aucs[1]), "diff": diff, "z": float(z), "p_value": p_value,
            "ci": [diff - half, diff + half]}


def _binary(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    values = set(np.unique(y).tolist())
    if not values <= {0, 1, False, True}:
        raise ValueError(f"DeLong needs a binary outcome coded 0/1; got values {sorted(values)[:5]}")
    positive = y.astype(bool)
    if positive.all() or not positive.any():
        raise ValueError("DeLong needs both positive and negative cases; only one class is present")
    return positive
