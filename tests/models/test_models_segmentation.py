import pytest
import torch
from torch import nn

from medtl.models import create_model


def test_the_decoder_ends_at_full_resolution_with_the_input_as_its_last_skip():
    unet = create_model("resnet10_3d", task="segmentation", num_classes=2, encoder_depth=2).eval()
    x = torch.randn(1, 1, 16, 16, 12)
    assert unet.head.input_block(x).shape[2:] == x.shape[2:]
    assert unet.head.segmentation_head[1].__class__ is nn.Identity  # no upsampling after the decoder
    with torch.no_grad():
        assert unet(x).shape == (1, 2, 16, 16, 12)


def test_encoder_depth_keeps_the_first_feature_layers_and_drops_the_rest():
    unet = create_model("resnet10_3d", task="segmentation", encoder_depth=2)
    assert unet.encoder.layers == ("act", "layer1") and unet.multiple == 4
    assert all(isinstance(getattr(unet.encoder.backbone, name), nn.Identity) for name in ("layer2", "layer3", "layer4"))
    full = create_model("resnet10_3d", task="segmentation")
    assert sum(p.numel() for p in unet.parameters()) < sum(p.numel() for p in full.parameters()) / 10


def test_encoder_depth_out_of_range_is_refused():
    with pytest.raises(ValueError, match="encoder_depth must be between 1 and 5"):
        create_model("resnet10_3d", task="segmentation", encoder_depth=6)
