"""`model.head: lesion_map`: a U-Net's voxel log-probabilities pooled into a case's logits under one
temperature, loadable whole from a stored U-Net, learning "is there a bright spot anywhere" from image labels
alone, and explained by every default saliency method."""
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from medtl.explain import saliency
from medtl.models import create_model, store_weights
from medtl.models.checkpoints.weights import WeightMismatchError


def _lesion_map(**kwargs) -> nn.Module:
    return create_model("resnet10_3d", head="lesion_map", encoder_depth=2, **kwargs)


def test_the_case_logits_start_as_the_pooled_voxel_log_probabilities_and_train_the_whole_u_net():
    model = _lesion_map(pool="max")
    x = torch.randn(3, 1, 16, 16, 12)
    logits = model(x)
    assert logits.shape == (3, 2) and model.spec.classifier == "fc"
    expected = torch.log_softmax(model.lesion_map(x), dim=1).flatten(2).amax(2)
    assert torch.allclose(logits, expected, atol=1e-5)
    logits[:, 1].sum().backward()
    for name in ("fc.log_temperature", "head.segmentation_head.0.weight", "encoder.backbone.conv1.weight"):
        assert model.get_parameter(name).grad.abs().sum() > 0, name
    assert model.spec.target_layer == "encoder.backbone.layer1"  # the deepest encoder layer kept


def test_the_temperature_and_shift_rescale_every_case_alike_and_keep_their_order():
    model = _lesion_map(pool="avg").eval()
    x = torch.randn(6, 1, 16, 16, 12)
    with torch.no_grad():
        before = model(x)
        model.fc.log_temperature.fill_(1.0)
        model.fc.shift.copy_(torch.tensor([0.0, 2.0]))
        after = model(x)
    assert torch.allclose(after, before / torch.e + torch.tensor([0.0, 2.0]), atol=1e-6)
    assert torch.equal(before[:, 1].argsort(), after[:, 1].argsort())
    with pytest.raises(ValueError, match="one value"):
        _lesion_map(pool="avgmax")


def test_a_linear_probe_calibrates_a_detector_whose_lesion_cases_sit_at_one_half(monkeypatch):
    """A perfect detector (one voxel at lesion probability 0.9 in lesion cases, none above 0.01 elsewhere) scores
    every lesion case near 0.5 before the probe: both pooled maxima are near log 1. The probe's shift moves them up."""
    model = _lesion_map(pool="max")
    y = torch.arange(16) % 2
    voxel_logits = torch.zeros(16, 2, 4, 4, 4)
    voxel_logits[:, 0] = torch.log(torch.tensor(99.0))
    voxel_logits[y == 1, :, 1, 2, 3] = torch.tensor([0.0, torch.log(torch.tensor(9.0))])
    monkeypatch.setattr(model, "lesion_map", lambda x: voxel_logits)
    x = torch.zeros(16, 1, 4, 4, 4)
    assert torch.allclose(model(x).softmax(1)[y == 1, 1], torch.tensor(0.9 / (0.9 + 0.99)))  # 0.48
    optimizer = torch.optim.Adam(model.fc.parameters(), lr=0.1)
    for _ in range(200):
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        probabilities = model(x).softmax(1)[:, 1]
    assert probabilities[y == 1].min() > 0.9 and probabilities[y == 0].max() < 0.1


def test_lesion_map_is_a_classification_head():
    with pytest.raises(ValueError, match="classification head"):
        create_model("resnet10_3d", task="segmentation", head="lesion_map")


def test_a_stored_u_net_loads_whole_into_a_lesion_map_and_a_u_net_and_by_its_encoder_elsewhere():
    unet = create_model("resnet10_3d", task="segmentation", encoder_depth=2)
    with torch.no_grad():
        unet.head.segmentation_head[0].weight.fill_(0.5)
    store_weights("tiny-unet", unet, "resnet10_3d")
    model = _lesion_map(weights="medtl:tiny-unet")
    assert (model.head.segmentation_head[0].weight == 0.5).all()
    assert set(model.load_report.missing) == {"fc.log_temperature", "fc.shift"}  # the only part the U-Net lacks
    again = create_model("resnet10_3d", task="segmentation", encoder_depth=2, weights="medtl:tiny-unet")
    assert (again.head.segmentation_head[0].weight == 0.5).all() and not again.load_report.missing
    with pytest.raises(WeightMismatchError, match="allow_mismatch"):  # layer2-4 were never trained
        create_model("resnet10_3d", weights="medtl:tiny-unet")
    plain = create_model("resnet10_3d", weights="medtl:tiny-unet", allow_mismatch=True)
    assert torch.equal(plain.conv1.weight, unet.encoder.backbone.conv1.weight)
    assert any(key.startswith("layer2.") for key in plain.load_report.missing)


def _cohort(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise volumes of 16^3; every other one holds a bright 2^3 cube somewhere."""
    x = torch.randn(n, 1, 16, 16, 16, generator=generator) * 0.3
    y = torch.arange(n) % 2
    for i in torch.nonzero(y).flatten():
        a, b, c = torch.randint(2, 12, (3,), generator=generator).tolist()
        x[i, 0, a:a + 2, b:b + 2, c:c + 2] += 1.5
    return x, y


def test_the_lesion_map_head_learns_a_small_bright_cube_from_image_labels():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    (x, y), (x_test, y_test) = _cohort(32, generator), _cohort(20, generator)
    model = _lesion_map(pool="max")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(12):
        for batch in torch.randperm(len(x)).split(8):
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        scores = model.eval()(x_test).softmax(1)[:, 1]
    assert roc_auc_score(y_test.numpy(), scores.numpy()) > 0.9


@pytest.mark.parametrize("method, target_layer", [("verified", None), ("gradxlocal", None), ("gradient", None),
                                                   ("gradcam", "encoder.backbone.layer1"),
                                                   ("gradcam", "encoder.backbone.layer2")])  # where the encoder stops
def test_every_default_saliency_method_maps_a_lesion_map_model(method, target_layer):
    torch.manual_seed(0)
    x, _ = _cohort(2, torch.Generator().manual_seed(1))
    model = create_model("resnet10_3d", head="lesion_map", encoder_depth=3).eval()  # as configured: layer2 deepest
    maps = saliency(model, x, target_layer=target_layer, method=method, class_idx=1)
    assert maps.shape == (2, 16, 16, 16)
    assert all(m.max() > m.min() for m in maps), method
