"""Grad-CAM whose backward pass stops at the target layer gives MONAI's maps (full backward to the input), runs
the layers below the target without autograd, and copes with an in-place layer right after the target."""
import pytest
import torch
import torch.nn as nn
from monai.visualize import GradCAM, GradCAMpp

from medtl.explain import saliency


class GradModeProbe(nn.Module):
    """Identity that records whether autograd was on when it ran."""

    def __init__(self):
        super().__init__()
        self.grad_enabled: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.grad_enabled.append(torch.is_grad_enabled())
        return x


def tiny_cnn(inplace_after_target: bool = False) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), GradModeProbe(),
        nn.Conv2d(6, 8, 3, padding=1),  # "3": the target layer
        nn.ReLU(inplace=inplace_after_target), GradModeProbe(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3),
    ).eval()


def monai_maps(model: nn.Module, images: torch.Tensor, cam_class: type, class_idx: int) -> torch.Tensor:
    """MONAI's own Grad-CAM: the input requires a gradient and the backward pass runs to it; each map scaled to
    [0, 1] afterwards, as saliency does."""
    cam = cam_class(nn_module=model, target_layers="3", postprocessing=lambda maps: maps)
    maps = cam(images.clone().requires_grad_(True), class_idx=class_idx)[:, 0].detach()
    low = maps.flatten(1).min(1).values.view(-1, 1, 1)
    high = maps.flatten(1).max(1).values.view(-1, 1, 1)
    return (maps - low) / (high - low)


@pytest.mark.parametrize("method, cam_class, batch", [("gradcam", GradCAM, 4), ("gradcampp", GradCAMpp, 1)])
def test_maps_equal_monai_full_backward(method, cam_class, batch):
    images = torch.rand(batch, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    ours = saliency(tiny_cnn(), images, target_layer="3", method=method, class_idx=2)
    torch.testing.assert_close(ours, monai_maps(tiny_cnn(), images, cam_class, class_idx=2), atol=1e-5, rtol=1e-4)
    assert ours.shape == (batch, 32, 32) and ours.flatten(1).amax(1).tolist() == [1.0] * batch  # no constant map


def test_layers_below_the_target_run_without_autograd():
    model = tiny_cnn()
    images = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(3)).requires_grad_(True)
    saliency(model, images, target_layer="3")
    assert model[2].grad_enabled == [False] and model[5].grad_enabled == [True]
    assert images.grad is None and all(p.grad is None for p in model.parameters())
    assert torch.is_grad_enabled()


def test_in_place_layer_after_the_target_sees_its_own_copy():
    images = torch.rand(3, 1, 32, 32, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(saliency(tiny_cnn(inplace_after_target=True), images, "3", class_idx=1),
                               saliency(tiny_cnn(), images, "3", class_idx=1))


class WithSpareLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.spare = tiny_cnn(), nn.Conv2d(8, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def test_target_layer_that_never_runs_is_named():
    with pytest.raises(ValueError, match="target layer 'spare' did not run in WithSpareLayer's forward pass"):
        saliency(WithSpareLayer(), torch.rand(1, 1, 32, 32), target_layer="spare")
