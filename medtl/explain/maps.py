"""`saliency`: one entry point for every saliency method medtl has, 2D and 3D, for a model or a fold ensemble."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn as nn
from monai.networks.layers import GaussianFilter

from medtl.explain.voxel_map import VOXEL_MAP, voxel_map

# Methods that explain the activations of a layer (class-activation maps) and methods that explain the input.
CAM_METHODS = ("gradcam", "gradcampp", "layercam", "hirescam")
INPUT_METHODS = ("verified", "gradxlocal", "gradient", "gradxinput", "smoothgrad", "integrated_gradients", "occlusion")
METHODS = INPUT_METHODS + CAM_METHODS + (VOXEL_MAP,)
# Gradient methods are smoothed with a Gaussian of half the scale of a small lesion (benchmarks/SALIENCY.md: at
# the full scale, peaks merge with nearby anatomy and miss lesions of a few pixels).
GRADIENT_METHODS = ("gradxlocal", "gradient", "gradxinput", "smoothgrad", "integrated_gradients")
LESION_SHARE = 1 / 32
SMOOTHING_SHARE = LESION_SHARE / 2
ClassIndex = int | torch.Tensor | None
# One model, or several whose outputs are averaged (e.g. the fold models of a cross-validation run).
Models = nn.Module | Sequence[nn.Module]


def saliency(
    model: Models,
    images: torch.Tensor,
    target_layer: str | None = None,
    method: str = "gradcam",
    class_idx: ClassIndex = None,
    smoothing: float | None = None,
) -> torch.Tensor:
    """Heatmaps (B, *spatial) in [0, 1] at the input size, one per image of a (B, C, *spatial) batch.

    `method` is one of `METHODS`: the class-activation maps (`CAM_METHODS`) explain `target_layer`'s
    activations (a convolutional feature map, or a transformer's patch tokens laid out on their grid); the input
    methods (gradient x local contrast, gradient, gradient x input, SmoothGrad, integrated gradients, occlusion)
    explain the pixels and ignore it.
    `class_idx` is the class to explain: one int for every image, a tensor with one class per image, or None for
    each image's predicted class (an ensemble's: the class of the highest mean probability). `smoothing` is the
    sigma in pixels of a Gaussian applied to each map (None: `default_smoothing`). A map that is zero or
    constant everywhere comes back as zeros. For an ensemble, the members' maps are averaged and scaled again.
    Models keep their train/eval modes and hooks; their parameter gradients are left cleared.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        ...                           torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> saliency(net, torch.rand(2, 1, 16, 16), target_layer="1").shape
        torch.Size([2, 16, 16])
        >>> saliency(net, torch.rand(2, 1, 16, 16), method="gradient").shape
        torch.Size([2, 16, 16])
    """
    if method not in METHODS:
        raise ValueError(f"method must be a str among {set(METHODS)}. Got {method!r} instead.")
    if images.ndim not in (4, 5):
        raise ValueError(f"images must be a (B, C, H, W) or (B, C, D, H, W) batch; got shape {tuple(images.shape)}")
    if method in CAM_METHODS and not target_layer:
        raise ValueError(f"method {method!r} explains a layer: give target_layer (e.g. the backbone's spec)")
    models = as_models(model)
    if class_idx is None and len(models) > 1:  # every member explains the ensemble's prediction, not its own
        class_idx = predicted_class(models, images)
    maps = [_one_model(m, images, target_layer, method, class_idx) for m in models]
    mean = maps[0] if len(maps) == 1 else torch.stack(maps).mean(0)
    sigma = default_smoothing(method, images.shape[2:]) if smoothing is None else smoothing
    return scale_each(smooth(mean, sigma))


def default_smoothing(method: str, spatial_shape: Sequence[int]) -> float:
    """Gaussian sigma (pixels) a method's maps are smoothed with: 1/64 of the smallest side for gradient methods
    (pixel gradients are noisy; the lesions medtl looks for span a few percent of the image), 0 otherwise.

    Example:
        >>> default_smoothing("gradxinput", (64, 64)), default_smoothing("gradcam", (64, 64))
        (1.0, 0.0)
    """
    return min(spatial_shape) * SMOOTHING_SHARE if method in GRADIENT_METHODS else 0.0


def lesion_scale(spatial_shape: Sequence[int]) -> float:
    """The scale (pixels) of the small lesions medtl looks for: 1/32 of the smallest side.

    Example:
        >>> lesion_scale((96, 128))
        3.0
    """
    return min(spatial_shape) * LESION_SHARE


def smooth(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Each (B, *spatial) map convolved with a Gaussian of `sigma` pixels (MONAI's `GaussianFilter`); 0: unchanged.

    Example:
        >>> smooth(torch.ones(1, 8, 8), 1.0).shape
        torch.Size([1, 8, 8])
    """
    if sigma <= 0:
        return maps
    return GaussianFilter(maps.ndim - 1, sigma).to(maps.device)(maps[:, None].float())[:, 0]


def _one_model(model: nn.Module, images: torch.Tensor, target_layer: str | None, method: str,
               class_idx: ClassIndex) -> torch.Tensor:
    from medtl.explain.attribution import input_attribution  # the two families import this module
    from medtl.explain.cam import class_activation_map

    with modes_restored(model):
        model.eval()
        try:
            if method in CAM_METHODS:
                return class_activation_map(model, images, target_layer, method, class_idx)
            if method == VOXEL_MAP:
                return voxel_map(model, images, class_idx)
            return input_attribution(model, images, method, class_idx)
        finally:
            model.zero_grad(set_to_none=True)


def as_models(model: Models) -> list[nn.Module]:
    """`model` as a non-empty list of models.

    Example:
        >>> len(as_models(torch.nn.Linear(2, 2))), len(as_models([torch.nn.Linear(2, 2)] * 3))
        (1, 3)
    """
    models = [model] if isinstance(model, nn.Module) else list(model)
    if not models:
        raise ValueError("an ensemble needs at least one model; got none")
    return models


def predicted_class(model: Models, images: torch.Tensor) -> torch.Tensor:
    """Index of the highest-scoring class for each image (0 for a single-logit model), in eval mode; for an
    ensemble, of the highest mean probability.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
        >>> predicted_class(net, torch.rand(2, 1, 2, 2)).shape
        torch.Size([2])
    """
    probabilities = []
    for member in as_models(model):
        with modes_restored(member), torch.no_grad():
            member.eval()
            probabilities.append(probabilities_of(member(images)))
    return torch.stack(probabilities).mean(0).argmax(1)


def per_image(class_idx: ClassIndex, outputs: torch.Tensor) -> torch.Tensor:
    """One class index per image of a batch of (B, n_classes) outputs, checked.

    Example:
        >>> per_image(1, torch.zeros(3, 2)).tolist()
        [1, 1, 1]
    """
    n_images, n_classes = outputs.shape[:2]
    classes = outputs.argmax(1) if class_idx is None else torch.as_tensor(class_idx, device=outputs.device)
    classes = classes.long().expand(n_images) if classes.ndim == 0 else classes.long()
    if classes.shape != (n_images,) or bool((classes < 0).any()) or bool((classes >= n_classes).any()):
        raise ValueError(f"class_idx must be a class index below {n_classes}, or one per image; got {class_idx}")
    return classes


def probabilities_of(logits: torch.Tensor) -> torch.Tensor:
    """Sigmoid of a single logit, softmax of several.

    Example:
        >>> probabilities_of(torch.zeros(1, 2)).tolist()
        [[0.5, 0.5]]
    """
    return logits.sigmoid() if logits.shape[1] == 1 else logits.softmax(1)


def scale_each(maps: torch.Tensor) -> torch.Tensor:
    """Min-max scale each map of a (B, ...) batch to [0, 1]; a constant map becomes zeros.

    MONAI's `ScaleIntensity(minv=0, maxv=1)` does this one image at a time; its arithmetic is done here for the
    whole batch in four tensor operations, since per-image calls cost more than the maps themselves.

    Example:
        >>> scale_each(torch.tensor([[1.0, 3.0], [2.0, 2.0]])).tolist()
        [[0.0, 1.0], [0.0, 0.0]]
    """
    flat = maps.flatten(1)
    low = flat.amin(1).view(-1, *[1] * (maps.ndim - 1))
    span = flat.amax(1).view(-1, *[1] * (maps.ndim - 1)) - low
    return torch.where(span > 0, (maps - low) / torch.where(span > 0, span, 1.0), 0.0)


@contextmanager
def modes_restored(model: nn.Module) -> Iterator[None]:
    """Restore every submodule's train/eval mode on exit.

    Example:
        >>> net = torch.nn.Linear(2, 2)
        >>> with modes_restored(net):
        ...     _ = net.eval()
        >>> net.training
        True
    """
    modes = [(m, m.training) for m in model.modules()]
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training
