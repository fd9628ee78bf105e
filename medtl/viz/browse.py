"""`browse`: ipywidgets controls around `show_case` (case, method, opacity and, for volumes, the axial slice)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

from medtl.explain.overlay import HEAT_ALPHA, PANEL_INCHES
from medtl.viz.case_saliency import case_saliency
from medtl.viz.figures import show_case
from medtl.viz.run import Run


def browse(run: Run, methods: Sequence[str] = ("auto", "gradcam", "occlusion")) -> widgets.VBox:
    """An interactive viewer of the run's cases: a case dropdown (highest probability of the target class first),
    a method toggle, an opacity slider and, for volumes, an axial slice slider that jumps to the heatmap's peak
    whenever the case or method changes. Shown when it is the last expression of a cell.

    Example:
        >>> browse(load_run("runs/demo"))  # doctest: +SKIP
    """
    case = widgets.Dropdown(options=run.top_cases(), description="case")
    method = widgets.ToggleButtons(options=list(methods), description="method")
    opacity = widgets.FloatSlider(value=HEAT_ALPHA, min=0.0, max=1.0, step=0.05, description="opacity")
    axial = widgets.IntSlider(value=0, min=0, max=0, description="slice z")
    picture = widgets.Output()

    def refresh(change: dict[str, Any] | None = None) -> None:
        result = case_saliency(run, case.value, method.value)
        if change is None or change["owner"] in (case, method):
            _follow_peak(axial, result.peak_slice, result.image.array.shape[-1], refresh)
        with picture:
            picture.clear_output(wait=True)
            figure, ax = plt.subplots(figsize=(PANEL_INCHES * 1.5, PANEL_INCHES * 1.5))
            z = None if result.peak_slice is None else axial.value
            show_case(run, case.value, method.value, opacity.value, z, ax)
            display(figure)
            plt.close(figure)

    for control in (case, method, opacity, axial):
        control.observe(refresh, names="value")
    refresh()
    return widgets.VBox([widgets.HBox([case, method]), widgets.HBox([opacity, axial]), picture])


def _follow_peak(axial: widgets.IntSlider, peak: int | None, depth: int, refresh: Callable[..., None]) -> None:
    """Hide the slice slider for 2D images; else move it to the peak without triggering a second redraw."""
    axial.layout.display = "none" if peak is None else None
    if peak is None:
        return
    axial.unobserve(refresh, names="value")
    axial.max = depth - 1
    axial.value = peak
    axial.observe(refresh, names="value")
