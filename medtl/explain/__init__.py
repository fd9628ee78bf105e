"""Saliency in the patient's own geometry, with checks of how far to trust it.

`saliency` computes batched maps at the model input size (gradient x input, SmoothGrad, integrated gradients,
occlusion, Grad-CAM, Grad-CAM++, LayerCAM, HiResCAM; CNNs and transformers, 2D and 3D); `choose_saliency`
resolves `explain.method: auto`; `degenerate_reason` says why a map is no evidence; `save_heatmap` and
`save_overlay` put maps back on the source image; `pointing_game`, `energy_in_mask` and `randomization_check`
measure faithfulness; `explain_cases` does all of it for a batch of cases, `write_explain_summary` writes
explain/summary.json.
"""
from medtl.explain.auto import AUTO, SaliencyChoice, choose_saliency
from medtl.explain.degenerate import degenerate_reason
from medtl.explain.faithfulness import (
    energy_in_mask,
    pointing_game,
    randomization_check,
    randomization_correlations,
)
from medtl.explain.maps import CAM_METHODS, METHODS, predicted_class, saliency
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
    "AUTO",
    "CAM_METHODS",
    "METHODS",
    "SaliencyChoice",
    "choose_saliency",
    "degenerate_reason",
    "energy_in_mask",
    "explain_cases",
    "explain_paths",
    "figure_png",
    "file_stem",
    "overlay_png",
    "pointing_game",
    "predicted_class",
    "randomization_check",
    "randomization_correlations",
    "resize_to_image",
    "save_heatmap",
    "save_overlay",
    "saliency",
    "three_plane_montage",
    "to_source_geometry",
    "write_explain_summary",
]
