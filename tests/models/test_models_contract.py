"""Every registry entry, both tasks, 1 and 3 input channels: shapes, head, first conv, target layer, spec.

Models are built on the meta device (shapes without arithmetic) so the whole registry stays cheap;
`test_real_forward_and_backward` runs real tensors through one backbone of each family.
"""
import dataclasses

import pytest
import torch
from torch import nn

from medtl.models import create_model, get_spec, list_backbones
from medtl.models.checkpoints.sources import SOURCES

NAMES = list_backbones()


def _input_size(spec, task):
    if task == "segmentation":  # odd sizes: the U-Net pads and crops back
        return (40, 36) if spec.spatial_dims == 2 else (20, 16, 18)
    return (32,) * spec.spatial_dims if spec.spatial_dims == 2 or "densenet" in spec.name else (16,) * 3


def test_registry_holds_the_promised_backbones():
    assert {"resnet18", "resnet34", "resnet50", "densenet121", "efficientnet_b0", "efficientnet_b1",
            "efficientnet_b2", "efficientnet_b3", "vgg16_bn", "convnext_tiny", "resnet10_3d", "resnet18_3d",
            "resnet34_3d", "resnet50_3d", "densenet121_3d", "i3d:resnet18", "i3d:densenet121"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_spec_is_complete(name):
    spec = get_spec(name)
    for field in dataclasses.fields(spec):
        if field.name != "pretrained":
            assert getattr(spec, field.name) not in (None, "", ()), field.name
    assert spec.spatial_dims in (2, 3) and len(spec.input_size) == spec.spatial_dims
    assert len(spec.mean) == len(spec.std) == spec.in_chans
    assert set(spec.weight_sources) <= set(SOURCES) and "none" in spec.weight_sources
    assert {w.source for w in spec.pretrained} <= set(spec.weight_sources)
    assert all(w.file_name and w.url.startswith("https://") for w in spec.pretrained)


@pytest.mark.parametrize("task", ["classification", "segmentation"])
@pytest.mark.parametrize("name", NAMES)
def test_every_backbone_builds_for_both_tasks(name, task):
    spec = get_spec(name)
    size = _input_size(spec, task)
    for in_chans in (1, 3):
        with torch.device("meta"):
            model = create_model(name, task=task, in_chans=in_chans, num_classes=3)
            out = model.eval()(torch.zeros(2, in_chans, *size))
        assert tuple(out.shape) == ((2, 3) if task == "classification" else (2, 3, *size))
        assert model.load_report is None and model.spec.name == name
        first = model.get_submodule(model.spec.first_conv)
        assert isinstance(first, (nn.Conv2d, nn.Conv3d)) and first.in_channels == in_chans
        assert first.weight.dim() == spec.spatial_dims + 2
        assert isinstance(model.get_submodule(model.spec.target_layer), nn.Module)
        head = model.get_submodule(model.spec.classifier)
        if task == "classification":
            assert isinstance(head, nn.Linear) and head.out_features == 3 and head.in_features == spec.feature_dim
        else:
            assert head.segmentation_head[0].out_channels == 3
            assert not any(k.startswith(f"encoder.backbone.{spec.classifier}.") for k in model.state_dict())


def test_real_forward_and_backward():
    torch.manual_seed(0)
    for task in ("classification", "segmentation"):
        model = create_model("resnet18", task=task, in_chans=1, num_classes=2)
        out = model(torch.randn(2, 1, 40, 36))
        assert torch.isfinite(out).all()
        out.square().mean().backward()
        assert model.get_submodule(model.spec.first_conv).weight.grad.abs().sum() > 0
        assert all(p.grad is not None for p in model.get_submodule(model.spec.classifier).parameters())
    volume_model = create_model("resnet10_3d", task="segmentation", in_chans=1, num_classes=2).eval()
    with torch.no_grad():
        logits = volume_model(torch.randn(1, 1, 16, 16, 16))
    assert logits.shape == (1, 2, 16, 16, 16) and torch.isfinite(logits).all()


def test_segmentation_drops_the_unused_classifier():
    with torch.device("meta"):
        classifier = create_model("vgg16_bn")
        segmenter = create_model("vgg16_bn", task="segmentation")
    assert sum(p.numel() for p in segmenter.parameters()) < sum(p.numel() for p in classifier.parameters()) / 4
    assert segmenter.spec.target_layer == "encoder.backbone.features.42"


def test_timm_models_are_reachable():
    pytest.importorskip("timm")
    spec = get_spec("timm:resnet18")
    assert (spec.family, spec.first_conv, spec.classifier, spec.target_layer) == ("timm", "conv1", "fc", "layer4")
    with torch.device("meta"):
        model = create_model("timm:resnet18", in_chans=1, num_classes=4).eval()
        segmenter = create_model("timm:resnet18", task="segmentation", in_chans=2, num_classes=3).eval()
        assert tuple(model(torch.zeros(1, 1, 32, 32)).shape) == (1, 4)
        assert tuple(segmenter(torch.zeros(1, 2, 32, 32)).shape) == (1, 3, 32, 32)
    assert model.conv1.in_channels == 1


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"must be one of \{.*'resnet18'.*\}. Got 'resnet99' instead."):
        get_spec("resnet99")
    with pytest.raises(ValueError, match="task must be one of"):
        create_model("resnet18", task="detection")
    with pytest.raises(ValueError, match="in_chans must be a positive int"):
        create_model("resnet18", in_chans=0)
    with pytest.raises(ValueError, match="stem='monai' applies to the MONAI 3D ResNets"):
        create_model("resnet18", stem="monai")
    with pytest.raises(ValueError, match="pool='max' applies to the MONAI 3D ResNets"):
        create_model("resnet18", pool="max")
    with pytest.raises(ValueError, match="pool must be one of"):
        create_model("resnet18_3d", pool="median")
