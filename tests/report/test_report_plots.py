"""The ROC band's curves are scikit-learn's, point for point."""
import numpy as np
from sklearn.metrics import roc_curve

from medtl.report.plots import roc_rates


def test_roc_rates_equal_scikit_learns_roc_curve_with_and_without_tied_probabilities():
    rng = np.random.default_rng(0)
    cases = [(np.array([0, 1, 1]), np.full(3, 0.5)), (np.array([1, 0]), np.array([0.3, 0.6]))]  # 1 and 2 thresholds
    for trial in range(500):
        n = int(rng.integers(2, 40))
        p = rng.integers(0, 4, n) / 4 if trial % 2 else rng.random(n)  # few distinct values: many ties
        cases.append((np.r_[0, 1, rng.integers(0, 2, n - 2)], p))
    for y, p in cases:
        fpr, tpr = roc_rates(y, p)
        expected_fpr, expected_tpr, _ = roc_curve(y, p)
        np.testing.assert_array_equal(fpr, expected_fpr)
        np.testing.assert_array_equal(tpr, expected_tpr)
