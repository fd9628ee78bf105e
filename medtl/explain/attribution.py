"""Saliency of one model's input pixels: gradient, gradient x input, SmoothGrad and integrated gradients (captum),
and occlusion sensitivity (monai.visualize), batched, 2D and 3D."""
from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn as nn
import torch.nn.functional as F
from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Saliency
from monai.visualize import OcclusionSensitivity

from medtl.explain.maps import (ClassIndex, default_smoothing, lesion_scale, per_image, probabilities_of, scale_each,
                                smooth)
from medtl.explain.verified import verified_map

SMOOTHGRAD_SAMPLES = 8
SMOOTHGRAD_NOISE = 0.15  # noise sd as a share of the batch's intensity range (Smilkov et al. 2017: 10-20%)
IG_STEPS = 16
GRADIENT_PASS_METHODS = ("gradient", "gradxlocal", "verified")
OCCLUSION_SHARE = 8  # occluding patch: an eighth of each side, moved by half its size


def input_attribution(model: nn.Module, images: torch.Tensor, method: str, class_idx: ClassIndex) -> torch.Tensor:
    """(B, *spatial) maps in [0, 1] of how much each pixel matters to the class score of a model in eval mode.

    Gradients are those of the class's log-probability (log-softmax, or log-sigmoid for one logit): evidence for
    the class against the others. "gradxlocal": the positive part of gradient x (input - the input blurred at
    lesion scale), i.e. gradient x input against a blurred baseline (Sturmfels et al. 2020): where a local bright
    detail raises the class's probability (one forward and one backward pass). "verified": the gradxlocal map,
    smoothed, whose highest peaks are each checked by hiding them (`medtl.explain.verified`; `PEAKS` more
    inference passes): its maximum moves to the peak whose hiding lowers the probability most. "gradient": the
    positive part of the gradient summed over channels, where brightening the image raises the class's
    probability (as costly as gradxlocal); "gradxinput": |gradient x input|; "smoothgrad": mean |gradient| over
    `SMOOTHGRAD_SAMPLES` noisy copies; "integrated_gradients": |integrated gradients| from a black image in
    `IG_STEPS` steps; both summed over channels. "occlusion": the drop in the class probability when a patch of an
    eighth of each side (moved by half its size) is hidden, clipped at zero.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        ...                           torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> input_attribution(net.eval(), torch.rand(2, 1, 16, 16), "smoothgrad", 1).shape
        torch.Size([2, 16, 16])
    """
    if method in GRADIENT_PASS_METHODS:
        return _gradient_map(model, images, method, class_idx)
    with torch.no_grad():
        classes = per_image(class_idx, model(images))
    if method == "occlusion":
        return _occlusion(model, images, classes)
    x = images.detach().clone().requires_grad_(True)

    def log_probabilities(inputs: torch.Tensor) -> torch.Tensor:
        return _log_probabilities(model(inputs))

    with _weights_frozen(model):  # gradients with respect to the input only: no weight gradients computed
        if method == "gradxinput":
            attributions = InputXGradient(log_probabilities).attribute(x, target=classes)
        elif method == "smoothgrad":
            noise = SMOOTHGRAD_NOISE * float(images.max() - images.min())
            attributions = NoiseTunnel(Saliency(log_probabilities)).attribute(
                x, nt_type="smoothgrad", nt_samples=SMOOTHGRAD_SAMPLES, nt_samples_batch_size=len(x), stdevs=noise,
                target=classes, abs=True)
        elif method == "integrated_gradients":
            black = x.flatten(2).amin(2).view(*x.shape[:2], *[1] * (x.ndim - 2)).expand_as(x).contiguous()
            attributions = IntegratedGradients(log_probabilities).attribute(
                x, baselines=black, target=classes, n_steps=IG_STEPS, internal_batch_size=len(x))
        else:
            raise ValueError(f"{method!r} is not an input attribution method")
    return scale_each(attributions.detach().abs().sum(1))


def _gradient_map(model: nn.Module, images: torch.Tensor, method: str, class_idx: ClassIndex) -> torch.Tensor:
    """"gradient", "gradxlocal" and "verified" from one forward and one backward pass (plus `PEAKS` inference
    passes for "verified"): the predicted classes come from the same forward pass as the gradient."""
    x = images.detach().clone().requires_grad_(True)
    with _weights_frozen(model):  # gradients with respect to the input only: no weight gradients computed
        logits = model(x)
        classes = per_image(class_idx, logits.detach())
        chosen = _log_probabilities(logits).gather(1, classes[:, None])[:, 0]
        (gradients,) = torch.autograd.grad(chosen.sum(), x)
    if method == "gradient":
        return scale_each(gradients.sum(1).clamp(min=0))
    blurred = smooth(images.flatten(0, 1), lesion_scale(images.shape[2:])).view_as(images)
    heat = (gradients * (images - blurred)).sum(1).clamp(min=0)
    if method == "gradxlocal":
        return scale_each(heat)

    def log_probability(inputs: torch.Tensor) -> torch.Tensor:
        repeated = classes.repeat_interleave(len(inputs) // len(classes))
        return _log_probabilities(model(inputs)).gather(1, repeated[:, None])[:, 0]

    heat = smooth(heat, default_smoothing("gradxlocal", images.shape[2:]))
    return verified_map(log_probability, images, heat, chosen.detach())


def _log_probabilities(logits: torch.Tensor) -> torch.Tensor:
    return F.logsigmoid(logits) if logits.shape[1] == 1 else F.log_softmax(logits, dim=1)


def occlusion_window(spatial_shape: tuple[int, ...]) -> tuple[list[int], float]:
    """Occluding patch size and overlap for an input: an eighth of each side (a small lesion's size),
    overlapping by half.

    Example:
        >>> occlusion_window((64, 64))
        ([8, 8], 0.5)
    """
    return [max(1, math.ceil(s / OCCLUSION_SHARE)) for s in spatial_shape], 0.5


def _occlusion(model: nn.Module, images: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        base = probabilities_of(model(images))
    mask_size, overlap = occlusion_window(tuple(images.shape[2:]))
    occluder = OcclusionSensitivity(model, mask_size=mask_size, overlap=overlap, verbose=False,
                                    activate=probabilities_of)
    maps = []
    for i in range(images.shape[0]):
        with torch.no_grad(), warnings.catch_warnings():
            # MONAI 1.6 indexes with lists, which this torch flags as deprecated on every patch.
            warnings.filterwarnings("ignore", message="Using a non-tuple sequence for multidimensional indexing")
            occluded, _ = occluder(images[i : i + 1])
        # Importance of a region = how much hiding it lowers the probability of the explained class.
        maps.append((base[i, classes[i]] - occluded[0, classes[i]]).clamp(min=0))
    return scale_each(torch.stack(maps))


@contextmanager
def _weights_frozen(model: nn.Module) -> Iterator[None]:
    trainable = [p for p in model.parameters() if p.requires_grad]
    for parameter in trainable:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in trainable:
            parameter.requires_grad_(True)
