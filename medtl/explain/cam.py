"""Saliency maps of a classifier or an ensemble of classifiers: Grad-CAM, Grad-CAM++ and occlusion sensitivity
(monai.visualize), 2D and 3D."""
from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn as nn
from monai.visualize import GradCAM, GradCAMpp, OcclusionSensitivity
from monai.visualize.class_activation_maps import ModelWithHooks

METHODS = ("gradcam", "gradcampp", "occlusion")
ClassIndex = int | torch.Tensor | None
# One model, or several whose outputs are averaged (e.g. the fold models of a cross-validation run).
Models = nn.Module | Sequence[nn.Module]


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


def saliency(
    model: Models,
    images: torch.Tensor,
    target_layer: str,
    method: str = "gradcam",
    class_idx: ClassIndex = None,
) -> torch.Tensor:
    """Heatmaps (B, *spatial) in [0, 1] at the input size, one per image of a (B, C, *spatial) batch.

    Grad-CAM and Grad-CAM++ take one forward pass for the whole batch and a backward pass that stops at the
    target layer: the layers below it run without autograd, as at inference, so the cost stays close to one
    inference. Occlusion runs the model on occluded copies, image by image. `class_idx` is the class to explain:
    one int for every image, a tensor with one class per image, or None for each image's own predicted class
    (an ensemble's: the class of the highest mean probability).
    The model keeps its hooks and train/eval modes as they were; its parameter gradients are left cleared.
    For an ensemble (a sequence of models), each model's map is computed and their mean is scaled to [0, 1]
    again: the regions the models agree on stand out, as their averaged probabilities do.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        ...                           torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> saliency(net, torch.rand(2, 1, 16, 16), target_layer="1").shape
        torch.Size([2, 16, 16])
    """
    if method not in METHODS:
        raise ValueError(f"method must be a str among {set(METHODS)}. Got {method!r} instead.")
    if images.ndim not in (4, 5):
        raise ValueError(f"images must be a (B, C, H, W) or (B, C, D, H, W) batch; got shape {tuple(images.shape)}")
    models = as_models(model)
    if class_idx is None and len(models) > 1:  # every member explains the ensemble's prediction, not its own
        class_idx = predicted_class(models, images)
    maps = [_one_model_saliency(m, images, target_layer, method, class_idx) for m in models]
    return maps[0] if len(maps) == 1 else _scale_each(torch.stack(maps).mean(0))


def _one_model_saliency(model: nn.Module, images: torch.Tensor, target_layer: str, method: str,
                        class_idx: ClassIndex) -> torch.Tensor:
    with _modes_restored(model):
        if method == "occlusion":
            return _occlusion(model, images, class_idx)
        return _grad_cam(model, images, target_layer, GradCAMpp if method == "gradcampp" else GradCAM, class_idx)


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
        with _modes_restored(member), torch.no_grad():
            member.eval()
            probabilities.append(_probabilities(member(images)))
    return torch.stack(probabilities).mean(0).argmax(1)


def _grad_cam(
    model: nn.Module, images: torch.Tensor, target_layer: str, cam_class: type[GradCAM], class_idx: ClassIndex
) -> torch.Tensor:
    hooked = _BatchModelWithHooks(model, target_layer, spatial_dims=images.ndim - 2)
    try:
        cam = cam_class(nn_module=hooked, target_layers=target_layer, postprocessing=_scale_each)
        maps = cam(images.detach(), class_idx=class_idx)
        activations = hooked.activations[target_layer]
        if int(np.prod(activations.shape[2:])) == 1:
            warnings.warn(f"target layer {target_layer!r} gives a single value per map at input size "
                          f"{tuple(images.shape[2:])}, so its Grad-CAM cannot localise anything; explain an earlier "
                          "layer (explain.target_layer) or use a larger input", stacklevel=3)
    finally:
        hooked.remove()
        model.zero_grad(set_to_none=True)
    return maps[:, 0].detach()


def _occlusion(model: nn.Module, images: torch.Tensor, class_idx: ClassIndex) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        base = _probabilities(model(images))
    classes = _per_image(class_idx, base)
    mask_size = [max(1, s // 4) for s in images.shape[2:]]
    occluder = OcclusionSensitivity(model, mask_size=mask_size, verbose=False, activate=_probabilities)
    maps = []
    for i in range(images.shape[0]):
        with torch.no_grad(), warnings.catch_warnings():
            # MONAI 1.6 indexes with lists, which this torch flags as deprecated on every patch.
            warnings.filterwarnings("ignore", message="Using a non-tuple sequence for multidimensional indexing")
            occluded, _ = occluder(images[i : i + 1])
        # Importance of a region = how much hiding it lowers the probability of the explained class.
        drop = base[i, classes[i]] - occluded[0, classes[i]]
        maps.append(drop.clamp(min=0)[None])
    return _scale_each(torch.stack(maps))[:, 0]


class _BatchModelWithHooks(ModelWithHooks):
    """MONAI's `ModelWithHooks` whose backward pass stops at the target layer, with removable hooks and a
    per-image class score; MONAI's `GradCAM`/`GradCAMpp` compute the maps from what it returns.

    MONAI back-propagates from the score through the whole network to the input; Grad-CAM needs only the gradient
    at the target layer. Here the layers below the target run under `torch.no_grad` and the target's output is
    detached into a new leaf that requires a gradient, so autograd records only the layers above it and
    `torch.autograd.grad` computes that one gradient (no parameter gradients).
    MONAI scores a batch with `logits[:, class_idx]`, which mixes images when classes differ, and returns a (B,)
    score that Grad-CAM++ multiplies against (B, C, *spatial) gradients along the wrong axis; here each image is
    scored on its own class and the score is shaped (B, 1, *ones) to broadcast per image.
    """

    def __init__(self, model: nn.Module, target_layer: str, spatial_dims: int):
        try:
            layer = model.get_submodule(target_layer)
        except AttributeError:
            raise ValueError(f"target_layer {target_layer!r} is not a submodule of {type(model).__name__}") from None
        super().__init__(model, target_layer)  # registers nothing: the hook below keeps its handle
        self.register_forward = self.register_backward = True
        self.spatial_dims = spatial_dims
        self._handle = layer.register_forward_hook(self._gradient_root)

    def _gradient_root(self, _module: nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        """Forward hook on the target layer: keep its output as a leaf and record the graph from here on."""
        torch.set_grad_enabled(True)  # undone when `__call__`'s no_grad block exits
        leaf = output.detach().requires_grad_(True)
        self.activations[self.target_layers[0]] = leaf
        return leaf.clone()  # a later in-place layer (ReLU(inplace=True)) may modify this, never the leaf

    def __call__(self, x: torch.Tensor, class_idx: ClassIndex = None, retain_graph: bool = False):
        """Logits, (activation,) and (gradient of the class score at the target layer,), as MONAI's CAMs expect."""
        self.model.eval()  # `saliency` restores the model's modes
        name = self.target_layers[0]
        self.activations.pop(name, None)
        with torch.no_grad():
            logits = self.model(x)
            if name not in self.activations:
                raise ValueError(f"target layer {name!r} did not run in {type(self.model).__name__}'s forward pass")
            self.class_idx = logits.argmax(1) if class_idx is None else class_idx
            score = self.class_score(logits, self.class_idx)
            (gradient,) = torch.autograd.grad(score.sum(), self.activations[name], retain_graph=retain_graph)
        self.score, self.gradients[name] = score.detach(), gradient
        return logits.detach(), (self.activations[name].detach(),), (gradient,)

    def class_score(self, logits: torch.Tensor, class_idx: int | torch.Tensor) -> torch.Tensor:
        classes = _per_image(class_idx, logits)
        score = logits.gather(1, classes.view(-1, 1))
        return score.view(-1, *[1] * (self.spatial_dims + 1))

    def remove(self) -> None:
        self._handle.remove()


def _per_image(class_idx: ClassIndex, outputs: torch.Tensor) -> torch.Tensor:
    n_images, n_classes = outputs.shape[:2]
    classes = outputs.argmax(1) if class_idx is None else torch.as_tensor(class_idx, device=outputs.device)
    classes = classes.long().expand(n_images) if classes.ndim == 0 else classes.long()
    if classes.shape != (n_images,) or bool((classes < 0).any()) or bool((classes >= n_classes).any()):
        raise ValueError(f"class_idx must be a class index below {n_classes}, or one per image; got {class_idx}")
    return classes


def _probabilities(logits: torch.Tensor) -> torch.Tensor:
    return logits.sigmoid() if logits.shape[1] == 1 else logits.softmax(1)


def _scale_each(maps: torch.Tensor) -> torch.Tensor:
    """Min-max scale each (1, *spatial) map of a batch to [0, 1]; a constant map becomes zeros.

    MONAI's `ScaleIntensity(minv=0, maxv=1)` does this one image at a time; its arithmetic is done here for the
    whole batch in four tensor operations, since per-image calls cost more than the maps themselves.
    """
    flat = maps.flatten(1)
    low = flat.amin(1).view(-1, *[1] * (maps.ndim - 1))
    span = flat.amax(1).view(-1, *[1] * (maps.ndim - 1)) - low
    return torch.where(span > 0, (maps - low) / torch.where(span > 0, span, 1.0), 0.0)


@contextmanager
def _modes_restored(model: nn.Module) -> Iterator[None]:
    modes = [(m, m.training) for m in model.modules()]
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training
