"""Saliency in the patient's own geometry, with checks of how far to trust it.

`saliency` computes batched Grad-CAM / Grad-CAM++ / occlusion maps at the model input size; `save_heatmap` and
`save_overlay` put them back on the source image; `pointing_game`, `energy_in_mask` and `randomization_check`
measure faithfulness; `explain_cases` does all of it for a batch of cases, `write_explain_summary` writes explain/summary.json.
"""
from medtl.explain.cam import METHODS, predicted_class, saliency
from medtl.explain.faithfulness import energy_in_mask, pointing_game, randomization_check
from medtl.explain.geometry import resize_to_image, to_source_geometry
from medtl.explain.overlay import figure_png, overlay_png, three_plane_montage
from medtl.explain.save import (
    explain_cases,
    explain_paths,
    file_stem,
    save_heatmap,
    save_overlay,
    write_explain_summary,
)

__all__ = [
    "METHODS",
    "energy_in_mask",
    "explain_cases",
    "explain_paths",
    "figure_png",
    "file_stem",
    "overlay_png",
    "pointing_game",
    "predicted_class",
    "randomization_check",
    "resize_to_image",
    "save_heatmap",
    "save_overlay",
    "saliency",
    "three_plane_montage",
    "to_source_geometry",
    "write_explain_summary",
]
