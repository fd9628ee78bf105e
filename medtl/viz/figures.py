"""Matplotlib figures of a run: one case's heatmap over its image, methods side by side, the pooled ROC curve."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.metrics import RocCurveDisplay

# The run's own overlay drawing (grey window + heatmap layer), shared with the PNGs written to explain/.
from medtl.explain.degenerate import EMPTY
from medtl.explain.overlay import HEAT_ALPHA, PANEL_INCHES, display_window, draw_overlay, radiological
from medtl.report import read_cohort_summary
from medtl.viz.case_saliency import CaseSaliency, case_saliency
from medtl.viz.run import Run

MASK_COLOUR = "white"
Plane = tuple[np.ndarray, np.ndarray, np.ndarray | None, float]  # image, heatmap, mask, pixel aspect


def display_plane(result: CaseSaliency, slice_index: int | None = None) -> Plane:
    """(image, heatmap, mask or None, pixel aspect) as displayed: a 2D image as it is, a volume's axial slice
    `slice_index` (default: through the heatmap's peak) the radiological way, like `three_plane_montage`
    (patient right on the viewer's left, anterior up).

    Example:
        >>> image, heat, mask, aspect = display_plane(case_saliency(run, "P007_01"))  # doctest: +SKIP
    """
    spacing = result.image.spacing
    if result.image.spatial_dims == 2:
        return result.image.array, result.heatmap, result.mask, float(spacing[0]) / float(spacing[1])
    depth = result.image.array.shape[2]
    z = result.peak_slice if slice_index is None else int(slice_index)
    if not 0 <= z < depth:
        raise ValueError(f"slice_index must be in [0, {depth - 1}] for case {result.case_id!r} ({depth} axial "
                         f"slices). Got {slice_index!r} instead.")

    def axial(volume: np.ndarray) -> np.ndarray:
        return radiological(volume[:, :, z])

    mask = None if result.mask is None else axial(result.mask)
    return axial(result.image.array), axial(result.heatmap), mask, float(spacing[1]) / float(spacing[0])


def show_case(
    run: Run,
    case_id: str,
    method: str = "auto",
    alpha: float = HEAT_ALPHA,
    slice_index: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw a case's heatmap (`method`, for the run's target class) over its image, the lesion outlined when
    the case has a mask; volumes show the axial slice `slice_index`, by default the one through the peak.

    The heatmap comes from `case_saliency`: the fold model that never saw the patient, on the run's transforms.
    The title names the case, its label, fold, slice, method and probability; a map that is no evidence (zero
    everywhere, peaking on the border or on padding: `CaseSaliency.flag`) is not drawn and the title says why.

    Example:
        >>> show_case(run, run.top_cases(1)[0], method="gradcampp", alpha=0.5)  # doctest: +SKIP
        <Axes: title={'center': 'P007_01 (nodule), fold 2 ...'}>
    """
    result = case_saliency(run, case_id, method)
    image, heatmap, mask, aspect = display_plane(result, slice_index)
    if ax is None:
        ax = plt.subplots(figsize=(PANEL_INCHES, PANEL_INCHES))[1]
    draw_overlay(ax, image, None if _flag(result) else heatmap, aspect, display_window(result.image.array),
                 _title(result, slice_index), alpha)
    if mask is not None and mask.any():
        ax.contour(mask, levels=[0.5], colors=MASK_COLOUR, linewidths=0.8)
    return ax


def compare_methods(
    run: Run,
    case_id: str,
    methods: Sequence[str] = ("auto", "gradcam"),
    alpha: float = HEAT_ALPHA,
    slice_index: int | None = None,
) -> Figure:
    """One `show_case` panel per saliency method, side by side; volumes show the same axial slice in every
    panel (default: through the first method's peak).

    Example:
        >>> fig = compare_methods(run, "P007_01", ("gradcam", "gradcampp", "occlusion"))  # doctest: +SKIP
    """
    if not methods:
        raise ValueError("methods must name at least one saliency method, e.g. ('gradcam', 'gradcampp')")
    if slice_index is None:
        slice_index = case_saliency(run, case_id, methods[0]).peak_slice
    figure, axes = plt.subplots(1, len(methods), figsize=(PANEL_INCHES * len(methods), PANEL_INCHES), squeeze=False)
    for ax, method in zip(axes[0], methods):
        show_case(run, case_id, method, alpha, slice_index, ax)
    return figure


def plot_roc(run: Run, ax: Axes | None = None) -> Axes:
    """The pooled out-of-fold ROC curve at patient level (cv_summary.json "roc"), AUC and CI in the title.

    Example:
        >>> plot_roc(run).get_title()  # doctest: +SKIP
        'ROC, patient level\\nAUC 0.812 (95% bootstrap CI 0.640-0.950)'
    """
    roc = run.summary.get("roc")
    if not roc:
        raise ValueError(f"{run.run_dir / 'cv_summary.json'} has no ROC curve: it is drawn for binary tasks only")
    if ax is None:
        ax = plt.subplots(figsize=(PANEL_INCHES * 4 / 3, PANEL_INCHES * 4 / 3))[1]
    display = RocCurveDisplay(fpr=np.asarray(roc["fpr"]), tpr=np.asarray(roc["tpr"]), name="pooled out-of-fold")
    display.plot(ax=ax, plot_chance_level=True)
    ax.set(title=f"ROC, patient level\n{auc_text(run.summary)}", xlabel="1 - specificity", ylabel="sensitivity")
    return ax


def auc_text(summary: dict[str, Any]) -> str:
    """The pooled patient-level AUC of a cv_summary.json and its bootstrap CI, as one short line.

    Example:
        >>> auc_text({"ci_level": 0.95, "pooled": {"patient": {"auc": 0.8123, "bootstrap_ci": [0.64, 0.95]}}})
        'AUC 0.812 (95% bootstrap CI 0.640-0.950)'
    """
    cohort = read_cohort_summary(summary)
    if cohort.auc is None:
        return "AUC not available"
    if cohort.ci_low is None or cohort.ci_high is None:
        return f"AUC {cohort.auc:.3f}"
    return f"AUC {cohort.auc:.3f} ({summary['ci_level']:.0%} bootstrap CI {cohort.ci_low:.3f}-{cohort.ci_high:.3f})"


def _title(result: CaseSaliency, slice_index: int | None) -> str:
    where = ""
    if result.peak_slice is not None:
        where = f", z={result.peak_slice if slice_index is None else int(slice_index)}"
    label = f" ({result.label})" if result.label else ""
    flag = f"\nnot shown: {_flag(result)}" if _flag(result) else ""
    return (f"{result.case_id}{label}, fold {result.fold}{where}\n"
            f"{result.method}: p({result.target}) = {result.probability:.2f}{flag}")


def _flag(result: CaseSaliency) -> str | None:
    return result.flag or (None if result.heatmap.any() else EMPTY)
