"""Adaptation: input channels (timm's rule), I3D inflation (2D weights seed a 3D model), the 3D ResNet stem
and global pooling."""
import pytest
import torch
import torch.nn.functional as F

from medtl.models import adapt_input_conv, conv_macs, create_model, get_spec
from medtl.models.pooling import GlobalPool


def test_one_channel_sums_the_kernels_and_answers_like_a_grey_rgb_image():
    weight = torch.randn(8, 3, 5, 5)
    x = torch.randn(1, 1, 12, 12)
    adapted = adapt_input_conv(weight, 1)
    assert torch.equal(adapted, weight.sum(dim=1, keepdim=True))
    assert torch.allclose(F.conv2d(x, adapted), F.conv2d(x.repeat(1, 3, 1, 1), weight), atol=1e-5)


def test_n_channels_tile_and_rescale():
    weight = torch.randn(4, 3, 3, 3, 3)  # a 3D kernel: the rule is the same
    five = adapt_input_conv(weight, 5)
    assert five.shape == (4, 5, 3, 3, 3)
    assert torch.allclose(five, weight[:, [0, 1, 2, 0, 1]] * 3 / 5)
    x = torch.randn(1, 3, 6, 6, 6)
    six = adapt_input_conv(weight, 6)  # each RGB channel seen twice: same response as the RGB input
    assert torch.allclose(F.conv3d(x.repeat(1, 2, 1, 1, 1), six), F.conv3d(x, weight), atol=1e-5)
    assert torch.allclose(adapt_input_conv(torch.ones(2, 1, 3, 3), 4), torch.full((2, 4, 3, 3), 0.25))
    assert adapt_input_conv(weight, 3) is weight
    with pytest.raises(ValueError, match="in_chans must be a positive int"):
        adapt_input_conv(weight, 0)


def test_normalization_follows_the_adapted_channels():
    spec = get_spec("resnet18")
    assert spec.normalization(1) == ((0.449,), (0.226,))
    assert spec.normalization(3) == (spec.mean, spec.std)
    assert spec.normalization(4)[0] == (0.485, 0.456, 0.406, 0.485)
    assert get_spec("resnet10_3d").normalization(2) == ((0.0, 0.0), (1.0, 1.0))


def test_i3d_on_a_volume_constant_along_depth_matches_2d_on_one_slice(tmp_path):
    torch.manual_seed(0)
    flat = create_model("resnet18", in_chans=3, num_classes=3).eval()
    with torch.no_grad():  # non-trivial BatchNorm statistics, so they are checked too
        for module in flat.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    torch.save(flat.state_dict(), tmp_path / "flat.pth")
    volume = create_model("i3d:resnet18", in_chans=1, num_classes=3, weights=f"file:{tmp_path / 'flat.pth'}").eval()
    assert any("inflated to 3D" in note for note in volume.load_report.adapted)
    assert any("3 -> 1 input channels" in note for note in volume.load_report.adapted)
    image = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        expected = flat(image.repeat(1, 3, 1, 1))
        got = volume(image.unsqueeze(2).repeat(1, 1, 5, 1, 1))
    assert torch.allclose(got, expected, atol=1e-4)


def test_stride2_stem_costs_at_least_6x_fewer_conv_macs_at_96_cubed():
    with torch.device("meta"):  # shapes only: counting MACs at 96^3 costs no arithmetic
        fast = create_model("resnet18_3d", stem="stride2")
        full = create_model("resnet18_3d", stem="monai")
    assert fast.conv1.stride == (2, 2, 2) and full.conv1.stride == (1, 1, 1)
    ratio = conv_macs(full, (1, 1, 96, 96, 96)) / conv_macs(fast, (1, 1, 96, 96, 96))
    assert ratio >= 6
    assert conv_macs(torch.nn.Conv3d(1, 2, 3, padding=1), (1, 1, 4, 4, 4)) == 64 * 2 * 27


def test_max_pooling_keeps_a_single_bright_spot_that_averaging_dilutes():
    spot = torch.zeros(1, 4, 8, 8, 6)
    spot[0, :, 3, 3, 3] = 1.0
    assert GlobalPool("avg")(spot).flatten().tolist() == pytest.approx([1 / 384] * 4)
    assert GlobalPool("avgmax")(spot).flatten().tolist() == pytest.approx([1 / 384] * 4 + [1.0] * 4)
    with torch.device("meta"):
        models = {pool: create_model("resnet10_3d", pool=pool) for pool in ("avg", "max", "avgmax")}
    assert [models[pool].fc.in_features for pool in models] == [512, 512, 1024]
    assert isinstance(models["max"].avgpool, GlobalPool) and not isinstance(models["avg"].avgpool, GlobalPool)


def test_a_source_model_with_max_pooling_seeds_the_segmentation_encoder(tmp_path):
    torch.manual_seed(0)
    source = create_model("resnet10_3d", num_classes=5, pool="avgmax")
    torch.save(source.state_dict(), tmp_path / "source.pth")
    segmenter = create_model("resnet10_3d", task="segmentation", weights=f"file:{tmp_path / 'source.pth'}")
    assert any("head 'fc' reset" in note for note in segmenter.load_report.adapted)
    assert torch.equal(segmenter.encoder.backbone.conv1.weight, source.conv1.weight)
