"""Cluster (patient) bootstrap: resampling whole patients with replacement, as row weights.

Written by hand: scikit-learn's `resample` draws rows, not clusters. Drawing patients with replacement and
weighting each row by how often its patient was drawn gives the same statistic as concatenating the drawn
patients' rows, without copying data (Field & Welsh 2007, "Bootstrapping clustered data").
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd


def cluster_weights(groups: np.ndarray | pd.Series | None, n: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Yield `n_boot` weight vectors over `n` rows; each is the number of times the row's cluster was drawn
    when drawing as many clusters as there are, with replacement. `groups=None` makes every row its own cluster.

    Example:
        >>> w = next(cluster_weights(np.array(["a", "a", "b"]), 3, n_boot=1, seed=0))
        >>> bool(w[0] == w[1])
        True
    """
    codes = np.arange(n) if groups is None else pd.factorize(np.asarray(groups))[0]
    if len(codes) != n:
        raise ValueError(f"groups has {len(codes)} entries for {n} rows")
    n_clusters = int(codes.max()) + 1 if n else 0
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        drawn = np.bincount(rng.integers(0, n_clusters, n_clusters), minlength=n_clusters)
        yield drawn[codes].astype(float)


def percentile_ci(values: np.ndarray, alpha: float = 0.05) -> tuple[float, float]:
    """The (alpha/2, 1 - alpha/2) percentile interval of bootstrap values, ignoring NaN (undefined resamples).

    Example:
        >>> percentile_ci(np.arange(101.0), alpha=0.1)
        (5.0, 95.0)
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return float("nan"), float("nan")
    lo, hi = np.percentile(finite, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)
