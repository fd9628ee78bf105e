"""Evaluation: patient-grouped splits, leakage checks, patient-level AUC with confidence intervals, DeLong tests,
operating points, calibration, segmentation metrics, the CV summary and run-to-run comparison.

The segmentation metrics load MONAI on first use, so that importing this package stays light.

Example:
    >>> from medtl.evaluate import delong_auc_ci
    >>> round(delong_auc_ci([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])[0], 2)
    0.75
"""
from __future__ import annotations

import importlib
from typing import Any

from medtl.evaluate.aggregate import aggregate, auc_inputs, prediction_classes, resolve_positive
from medtl.evaluate.auc import auc, auc_value, bootstrap_auc_ci, paired_bootstrap_diff
from medtl.evaluate.calibration import brier, reliability
from medtl.evaluate.compare import compare_runs
from medtl.evaluate.delong import delong_auc_ci, delong_paired_test
from medtl.evaluate.leakage import LeakageError, check_leakage
from medtl.evaluate.splits import Splits, check_feasible, inner_split, make_splits, patient_labels
from medtl.evaluate.summary import summarize_cv
from medtl.evaluate.tables import format_comparison, format_summary
from medtl.evaluate.thresholds import confusion_at, point_at_specificity, youden_point

_LAZY = {"segmentation_metrics": "medtl.evaluate.segmentation", "summarize_segmentation": "medtl.evaluate.segmentation"}

__all__ = sorted([
    "aggregate", "auc_inputs", "prediction_classes", "resolve_positive", "auc", "auc_value", "bootstrap_auc_ci",
    "paired_bootstrap_diff", "brier", "reliability", "compare_runs", "format_comparison", "delong_auc_ci",
    "delong_paired_test", "LeakageError", "check_leakage", "Splits", "check_feasible", "inner_split", "make_splits",
    "patient_labels", "format_summary", "summarize_cv", "confusion_at", "point_at_specificity", "youden_point",
    *_LAZY,
])


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'medtl.evaluate' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
