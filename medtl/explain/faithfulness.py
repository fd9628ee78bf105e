"""How far to trust a saliency map: does it point at the lesion, and does it depend on what the model learned?"""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn as nn
from scipy.stats import spearmanr

from medtl.explain.maps import ClassIndex, Models, as_models, predicted_class, saliency


def pointing_game(heatmap: np.ndarray, mask: np.ndarray) -> bool:
    """True when the heatmap's maximum falls inside the mask (Zhang et al. 2018); a flat map points nowhere.

    Example:
        >>> heat = np.zeros((8, 8)); heat[2, 3] = 1
        >>> mask = np.zeros((8, 8), bool); mask[1:4, 2:5] = True
        >>> pointing_game(heat, mask)
        True
    """
    heatmap, mask = _same_shape(heatmap, mask)
    if heatmap.max() == heatmap.min():
        return False
    return bool(mask.flat[int(np.argmax(heatmap))])


def energy_in_mask(heatmap: np.ndarray, mask: np.ndarray) -> float:
    """Share of the heatmap's total mass inside the mask (energy-based pointing game, Wang et al. 2020), 0..1.

    Example:
        >>> heat = np.zeros((4, 4)); heat[0, 0] = 3; heat[3, 3] = 1
        >>> mask = np.zeros((4, 4), bool); mask[0, 0] = True
        >>> energy_in_mask(heat, mask)
        0.75
    """
    heatmap, mask = _same_shape(heatmap, mask)
    total = float(heatmap.sum())
    return float(heatmap[mask].sum()) / total if total > 0 else 0.0


def randomization_check(
    model: Models,
    images: torch.Tensor,
    target_layer: str | None,
    method: str = "gradcam",
    layers_to_reset: int = 2,
    class_idx: ClassIndex = None,
    trained_maps: torch.Tensor | None = None,
) -> float:
    """Mean Spearman rank correlation between the model's maps and those of a copy with its top layers re-initialised.

    The model randomisation test of Adebayo et al. 2018 ("Sanity checks for saliency maps"): see
    `randomization_correlations`, whose finite values this averages (NaN when there are none).

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        ...                           torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> -1.0 <= randomization_check(net, torch.rand(2, 1, 16, 16), "1") <= 1.0
        True
    """
    correlations = randomization_correlations(model, images, target_layer, method, layers_to_reset, class_idx,
                                              trained_maps)
    finite = correlations[np.isfinite(correlations)]
    return float(finite.mean()) if finite.size else float("nan")


def randomization_correlations(
    model: Models,
    images: torch.Tensor,
    target_layer: str | None,
    method: str = "gradcam",
    layers_to_reset: int = 2,
    class_idx: ClassIndex = None,
    trained_maps: torch.Tensor | None = None,
) -> np.ndarray:
    """Per image, the Spearman rank correlation between its map and the map of a copy of the model whose top
    layers are re-initialised.

    The last `layers_to_reset` top-level children that hold parameters (for a torchvision ResNet: `fc` and
    `layer4`) are re-initialised in a copy. A correlation near 1 means the map barely depends on the learned
    weights, so it does not explain the model; a low one is what a faithful map shows. Both maps explain the same
    class: the trained model's prediction unless `class_idx` is given. `trained_maps` reuses maps already computed
    with those classes. A flat map against a structured one counts as 0; NaN when both are flat. For an ensemble,
    every model is reset the same way and the ensembles' maps are compared.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        ...                           torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> randomization_correlations(net, torch.rand(3, 1, 16, 16), "1").shape
        (3,)
    """
    classes = predicted_class(model, images) if class_idx is None else class_idx
    if trained_maps is None:
        trained_maps = saliency(model, images, target_layer, method, classes)
    reset = [_with_top_layers_reset(member, layers_to_reset) for member in as_models(model)]
    reset_maps = saliency(reset, images, target_layer, method, classes)
    return np.array([_spearman(a, b) for a, b in zip(trained_maps.cpu().numpy(), reset_maps.cpu().numpy())])


def _with_top_layers_reset(model: nn.Module, layers_to_reset: int) -> nn.Module:
    reset = copy.deepcopy(model)
    with_weights = [child for child in reset.children() if any(True for _ in child.parameters())]
    if not 1 <= layers_to_reset <= len(with_weights):
        raise ValueError(f"layers_to_reset must be between 1 and {len(with_weights)} (the top-level children of "
                         f"{type(model).__name__} that hold weights); got {layers_to_reset}")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        for child in with_weights[-layers_to_reset:]:
            for module in child.modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
    return reset


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    a_flat, b_flat = a.max() == a.min(), b.max() == b.min()
    if a_flat or b_flat:  # ranks are undefined; one flat map against a structured one shares no ranking
        return float("nan") if a_flat and b_flat else 0.0
    return float(spearmanr(a.ravel(), b.ravel()).statistic)


def _same_shape(heatmap: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    heatmap, mask = np.asarray(heatmap, dtype=np.float64), np.asarray(mask) > 0
    if heatmap.shape != mask.shape:
        raise ValueError(f"heatmap {heatmap.shape} and mask {mask.shape} must have the same shape")
    return heatmap, mask
