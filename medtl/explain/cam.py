"""Class-activation maps of one model at a target layer: Grad-CAM and Grad-CAM++ (monai.visualize), LayerCAM and
HiResCAM (the formulas of pytorch-grad-cam, on the same hooks), for convolutional and transformer backbones."""
from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from monai.visualize import GradCAM, GradCAMpp
from monai.visualize.class_activation_maps import ModelWithHooks

from medtl.explain.maps import ClassIndex, per_image, scale_each
from medtl.explain.tokens import TokenLayout


def class_activation_map(model: nn.Module, images: torch.Tensor, target_layer: str, method: str,
                         class_idx: ClassIndex) -> torch.Tensor:
    """(B, *spatial) maps in [0, 1] of `method` ("gradcam", "gradcampp", "layercam" or "hirescam") at
    `target_layer`, for a model in eval mode; see `medtl.explain.saliency`.

    One forward pass for the batch and a backward pass that stops at the target layer. Grad-CAM weighs each
    channel by its mean gradient; HiResCAM multiplies activations and gradients position by position; LayerCAM
    does so with the positive part of the gradient. Each sum over channels is rectified, upsampled to the input
    size and scaled to [0, 1]; a map that is zero everywhere (no position with positive evidence) stays zero.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        ...                           torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> class_activation_map(net.eval(), torch.rand(2, 1, 16, 16), "1", "layercam", 1).shape
        torch.Size([2, 16, 16])
    """
    hooked = _BatchModelWithHooks(model, target_layer, images)
    try:
        if method in ("gradcam", "gradcampp"):
            cam = (GradCAMpp if method == "gradcampp" else GradCAM)(
                nn_module=hooked, target_layers=target_layer, postprocessing=scale_each)
            maps = cam(images.detach(), class_idx=class_idx)[:, 0]
        else:
            _, (activations,), (gradients,) = hooked(images.detach(), class_idx)
            weights = gradients.clamp(min=0) if method == "layercam" else gradients
            maps = _upsampled((weights * activations).sum(1, keepdim=True).relu(), images.shape[2:])
        activations = hooked.activations[target_layer]
    finally:
        hooked.remove()
    if int(np.prod(activations.shape[2:])) == 1:
        warnings.warn(f"target layer {target_layer!r} gives a single value per map at input size "
                      f"{tuple(images.shape[2:])}, so its class-activation map cannot localise anything; explain an "
                      "earlier layer (explain.target_layer) or use an input method", stacklevel=3)
    return maps.detach()


def _upsampled(cam: torch.Tensor, size: torch.Size) -> torch.Tensor:
    mode = "bilinear" if len(size) == 2 else "trilinear"
    return scale_each(F.interpolate(cam, size=tuple(size), mode=mode, align_corners=False)[:, 0])


class _BatchModelWithHooks(ModelWithHooks):
    """MONAI's `ModelWithHooks` whose backward pass stops at the target layer, with removable hooks, a per-image
    class score and transformer tokens laid out on their grid; MONAI's `GradCAM`/`GradCAMpp` compute the maps
    from what it returns.

    MONAI back-propagates from the score through the whole network to the input; a class-activation map needs only
    the gradient at the target layer. Here the layers below the target run under `torch.no_grad` and the target's
    output is detached into a new leaf that requires a gradient, so autograd records only the layers above it and
    `torch.autograd.grad` computes that one gradient (no parameter gradients).
    MONAI scores a batch with `logits[:, class_idx]`, which mixes images when classes differ, and returns a (B,)
    score that Grad-CAM++ multiplies against (B, C, *spatial) gradients along the wrong axis; here each image is
    scored on its own class and the score is shaped (B, 1, *ones) to broadcast per image.
    """

    def __init__(self, model: nn.Module, target_layer: str, images: torch.Tensor):
        try:
            layer = model.get_submodule(target_layer)
        except AttributeError:
            raise ValueError(f"target_layer {target_layer!r} is not a submodule of {type(model).__name__}") from None
        super().__init__(model, target_layer)  # registers nothing: the hook below keeps its handle
        self.register_forward = self.register_backward = True
        self.spatial_dims = images.ndim - 2
        self.layout = TokenLayout.of(model, tuple(images.shape[2:]))
        # first among the layer's hooks: a hook that ends the forward pass there (a U-Net encoder's deepest
        # layer) must see the recorded output
        self._handle = layer.register_forward_hook(self._gradient_root, prepend=True)

    def _gradient_root(self, _module: nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        """Forward hook on the target layer: keep its output (on a spatial grid) as a leaf and record the graph
        from here on."""
        if isinstance(output, tuple):
            output = output[0]
        torch.set_grad_enabled(True)  # undone when `__call__`'s no_grad block exits
        grid, rebuild = self.layout.to_grid(output.detach(), self.spatial_dims)
        leaf = grid.requires_grad_(True)
        self.activations[self.target_layers[0]] = leaf
        return rebuild(leaf.clone())  # a later in-place layer (ReLU(inplace=True)) may modify this, never the leaf

    def __call__(self, x: torch.Tensor, class_idx: ClassIndex = None, retain_graph: bool = False):
        """Logits, (activation,) and (gradient of the class score at the target layer,), as MONAI's CAMs expect."""
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
        score = logits.gather(1, per_image(class_idx, logits).view(-1, 1))
        return score.view(-1, *[1] * (self.spatial_dims + 1))

    def remove(self) -> None:
        self._handle.remove()
