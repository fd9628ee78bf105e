"""Plotting helpers for inspecting a finished classification run in Jupyter.

`load_run` reads a run folder back; `case_saliency` recomputes a case's heatmap with the fold model that held
its patient out; `show_case`, `compare_methods` and `plot_roc` draw with matplotlib; `browse` wraps
`show_case` in ipywidgets controls (the `notebooks` extra installs ipywidgets).

Example:
    >>> from medtl import viz
    >>> run = viz.load_run("runs/demo")           # doctest: +SKIP
    >>> viz.show_case(run, run.top_cases(1)[0])   # doctest: +SKIP
"""
from medtl.viz.browse import browse
from medtl.viz.case_saliency import CaseSaliency, case_saliency
from medtl.viz.figures import auc_text, compare_methods, display_plane, plot_roc, show_case
from medtl.viz.run import Run, load_run

__all__ = [
    "CaseSaliency",
    "Run",
    "auc_text",
    "browse",
    "case_saliency",
    "compare_methods",
    "display_plane",
    "load_run",
    "plot_roc",
    "show_case",
]
