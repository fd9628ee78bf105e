"""DeLong variance and paired test: against a direct O(n^2) implementation, a published AUC, and the bootstrap."""
import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from medtl.evaluate import delong_auc_ci, delong_paired_test
from medtl.evaluate.delong import delong_covariance


def _delong_by_pairs(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong et al. (1988) written out literally: psi(x, y) over every positive/negative pair, the structural
    components V10 (per positive) and V01 (per negative), and S = S10 / m + S01 / n."""
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    psi = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])  # (k, m, n)
    v10, v01 = psi.mean(axis=2), psi.mean(axis=1)
    m, n = pos.shape[1], neg.shape[1]
    k = len(scores)
    s10 = np.array([[np.sum((v10[a] - v10[a].mean()) * (v10[b] - v10[b].mean())) / (m - 1) for b in range(k)]
                    for a in range(k)])
    s01 = np.array([[np.sum((v01[a] - v01[a].mean()) * (v01[b] - v01[b].mean())) / (n - 1) for b in range(k)]
                    for a in range(k)])
    return psi.mean(axis=(1, 2)), s10 / m + s01 / n


def _two_markers(n: int = 70, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    shared = rng.normal(size=n)
    a = np.round(y * 1.0 + shared + rng.normal(0, 0.7, n), 1)  # rounding makes ties
    b = np.round(y * 0.6 + shared + rng.normal(0, 0.9, n), 1)
    return y, a, b


def test_fast_covariance_equals_the_pairwise_definition():
    y, a, b = _two_markers()
    aucs, cov = delong_covariance(y, np.vstack([a, b]))
    ref_aucs, ref_cov = _delong_by_pairs(y, np.vstack([a, b]))
    np.testing.assert_allclose(aucs, ref_aucs, rtol=0, atol=1e-10)
    np.testing.assert_allclose(cov, ref_cov, rtol=0, atol=1e-10)
    assert aucs[0] == pytest.approx(roc_auc_score(y, a), abs=1e-12)


def test_ci_and_paired_test_follow_from_the_pairwise_covariance():
    y, a, b = _two_markers(seed=1)
    ref_aucs, ref_cov = _delong_by_pairs(y, np.vstack([a, b]))
    auc, var, lo, hi = delong_auc_ci(y, a, alpha=0.05)
    half = norm.ppf(0.975) * np.sqrt(ref_cov[0, 0])
    assert (auc, var, lo, hi) == pytest.approx((ref_aucs[0], ref_cov[0, 0], ref_aucs[0] - half,
                                                min(1.0, ref_aucs[0] + half)), abs=1e-10)
    test = delong_paired_test(y, a, b)
    sd = np.sqrt(ref_cov[0, 0] + ref_cov[1, 1] - 2 * ref_cov[0, 1])
    z = (ref_aucs[0] - ref_aucs[1]) / sd
    assert test["diff"] == pytest.approx(ref_aucs[0] - ref_aucs[1], abs=1e-10)
    assert test["z"] == pytest.approx(z, abs=1e-10)
    assert test["p_value"] == pytest.approx(2 * norm.sf(abs(z)), abs=1e-10)
    assert test["ci"] == pytest.approx([test["diff"] - 1.959964 * sd, test["diff"] + 1.959964 * sd], abs=1e-6)


def test_hanley_mcneil_1982_rating_example():
    """Hanley & McNeil (1982), Radiology 143:29-36, Table 1: 109 CT images rated 1-5 by a radiologist; the
    published area (Wilcoxon / trapezoidal) is 0.8932. Their standard error formula (exponential approximation,
    eq. 1) is a different estimator from DeLong's, so the two need only agree closely."""
    normal = np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2])
    abnormal = np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])
    y = np.r_[np.zeros(len(normal), int), np.ones(len(abnormal), int)]
    auc, var, lo, hi = delong_auc_ci(y, np.r_[normal, abnormal])
    assert round(auc, 4) == 0.8932
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    m, n = len(abnormal), len(normal)
    hanley_mcneil_se = np.sqrt((auc * (1 - auc) + (m - 1) * (q1 - auc**2) + (n - 1) * (q2 - auc**2)) / (m * n))
    assert np.sqrt(var) == pytest.approx(hanley_mcneil_se, rel=0.1)
    assert lo < 0.893 - 0.05 and hi > 0.893 + 0.05


def test_delong_variance_approximates_the_bootstrap_variance():
    y, a, _ = _two_markers(n=120, seed=4)
    _, var, _, _ = delong_auc_ci(y, a)
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(1000):
        rows = rng.integers(0, len(y), len(y))
        if 0 < y[rows].sum() < len(y):
            boot.append(roc_auc_score(y[rows], a[rows]))
    assert var == pytest.approx(np.var(boot), rel=0.2)


def test_identical_scores_give_p_one_and_one_class_is_refused():
    y, a, _ = _two_markers()
    same = delong_paired_test(y, a, a)
    assert (same["diff"], same["z"], same["p_value"]) == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="both positive and negative"):
        delong_auc_ci(np.ones(5, int), np.arange(5.0))
