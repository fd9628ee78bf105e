"""Every saliency method on a CNN, a 2-block ViT and a 3D ResNet; LayerCAM and HiResCAM against their formulas."""
from __future__ import annotations

import numpy as np
import pytest
import timm
import torch
import torch.nn as nn
from monai.networks.nets import resnet10
from pytorch_grad_cam import HiResCAM, LayerCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from medtl.explain import METHODS, choose_saliency, saliency
from medtl.explain.tokens import TokenLayout


def full_resolution_cnn() -> nn.Sequential:
    """The target layer ("1") keeps the input's 12x12 grid, so no upsampling stands between map and formula."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).eval()


def reference(model: nn.Sequential, images: torch.Tensor, classes: list[int], method: str) -> np.ndarray:
    """The formula by hand: A = activations of layer 1, G = d score / d A; sum over channels, rectified, scaled."""
    activations = model[:2](images).detach().requires_grad_(True)
    scores = model[2:](activations).gather(1, torch.tensor(classes)[:, None]).sum()
    (gradients,) = torch.autograd.grad(scores, activations)
    weights = gradients.clamp(min=0) if method == "layercam" else gradients
    cam = (weights * activations).sum(1).relu().detach().numpy()
    low, high = cam.min((1, 2), keepdims=True), cam.max((1, 2), keepdims=True)
    return (cam - low) / (high - low)


@pytest.mark.parametrize("method, library", [("layercam", LayerCAM), ("hirescam", HiResCAM)])
def test_layercam_and_hirescam_equal_their_formula_and_pytorch_grad_cam(method, library):
    model = full_resolution_cnn()
    images = torch.randn(3, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    classes = [0, 2, 1]
    ours = saliency(model, images, "1", method, torch.tensor(classes)).numpy()
    np.testing.assert_allclose(ours, reference(model, images, classes, method), atol=1e-5)
    with library(model=model, target_layers=[model[1]]) as cam:
        theirs = cam(images, targets=[ClassifierOutputTarget(c) for c in classes])
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    assert not np.allclose(ours, saliency(model, images, "1", "gradcam", torch.tensor(classes)).numpy(), atol=1e-3)


def two_block_vit(reg_tokens: int = 0) -> nn.Module:
    torch.manual_seed(0)
    return timm.create_model("vit_tiny_patch16_224", depth=2, img_size=32, patch_size=8, in_chans=1, num_classes=2,
                             pretrained=False, reg_tokens=reg_tokens).eval()


def resnet_3d() -> nn.Module:
    torch.manual_seed(0)
    return resnet10(spatial_dims=3, n_input_channels=1, num_classes=2).eval()


@pytest.mark.parametrize("method", [m for m in METHODS if m != "voxel_map"])  # a lesion-map model's: test_explain_voxel_map
@pytest.mark.parametrize("name, build, shape, layer", [
    ("vit", two_block_vit, (2, 1, 32, 32), "blocks.1.norm1"),  # the last block reads patch tokens here
    ("resnet3d", resnet_3d, (2, 1, 16, 16, 16), "layer2"),
])
def test_every_method_gives_a_structured_map_of_the_input_size(name, build, shape, layer, method):
    model = build()
    images = torch.randn(*shape, generator=torch.Generator().manual_seed(2))
    maps = saliency(model, images, layer, method, class_idx=1)
    assert maps.shape == (shape[0], *shape[2:])
    assert torch.isfinite(maps).all()
    for heat in maps:
        assert float(heat.max()) == 1.0 and float(heat.min()) == 0.0 and heat.unique().numel() > 4


def test_class_and_register_tokens_are_dropped_before_the_grid():
    model = two_block_vit(reg_tokens=4)
    layout = TokenLayout.of(model, (32, 32))
    assert layout == TokenLayout(prefix=5, grid=(4, 4))
    tokens = model.blocks(model._pos_embed(model.patch_embed(torch.zeros(1, 1, 32, 32))))
    grid, rebuild = layout.to_grid(tokens, 2)
    assert grid.shape == (1, 192, 4, 4)
    assert torch.equal(grid[0, :, 1, 2], tokens[0, 5 + 1 * 4 + 2])
    assert torch.equal(rebuild(grid), tokens)
    maps = saliency(model, torch.randn(2, 1, 32, 32), "blocks.1.norm1", "layercam", class_idx=0)
    assert maps.shape == (2, 32, 32) and maps.flatten(1).std(1).min() > 0


def test_auto_picks_a_measured_method_and_layer_for_each_family():
    vit, cnn = two_block_vit(), full_resolution_cnn()
    for model, shape in ((vit, (32, 32)), (cnn, (64, 64)), (resnet_3d(), (96, 96, 96))):
        choice = choose_saliency("auto", "auto", model, shape)
        assert choice.method in METHODS and choice.chosen_by.startswith("auto")
    assert choose_saliency("auto", None, cnn, (224, 224)).chosen_by.endswith("at 128^2 (benchmarks/SALIENCY.md)")
    explicit = choose_saliency("gradcam", "1", cnn, (64, 64))
    assert (explicit.method, explicit.target_layer, explicit.chosen_by) == ("gradcam", "1", "explain.method; "
                                                                             "layer from explain.target_layer")
    with pytest.raises(ValueError, match="explain.method must be"):
        choose_saliency("gradcm", None, cnn, (64, 64))


def test_the_command_line_offers_every_method():
    from medtl.config_choices import CHOICES

    assert sorted(CHOICES["explain.method"]) == sorted(["auto", *METHODS])
