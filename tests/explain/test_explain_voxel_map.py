"""A lesion-map classifier is explained by its own voxel map: the map whose maximum is its case score."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from medtl.explain import choose_saliency, saliency
from medtl.models import create_model


@pytest.fixture(scope="module")
def lesion_map_model() -> nn.Module:
    torch.manual_seed(0)
    return create_model("resnet18_3d", head="lesion_map", encoder_depth=2, pool="max").eval()


def test_auto_explains_a_lesion_map_classifier_by_its_voxel_map(lesion_map_model):
    choice = choose_saliency("auto", "auto", lesion_map_model, (16, 16, 16))
    assert choice.method == "voxel_map" and choice.target_layer is None
    assert choose_saliency("auto", "auto", nn.Conv3d(1, 2, 1), (16, 16, 16)).method != "voxel_map"


def test_the_map_peaks_where_the_case_score_comes_from(lesion_map_model):
    images = torch.randn(2, 1, 16, 16, 16)
    maps = saliency(lesion_map_model, images, method="voxel_map", class_idx=1)
    with torch.no_grad():
        voxel_logp = torch.log_softmax(lesion_map_model.lesion_map(images), dim=1)[:, 1]
    for i in range(2):
        assert maps[i].argmax() == voxel_logp[i].argmax()  # max pooling: the case score is this voxel's
        assert float(maps[i].max()) == pytest.approx(1.0) and float(maps[i].min()) >= 0.0


def test_a_model_without_a_voxel_map_is_named(lesion_map_model):
    net = nn.Sequential(nn.Conv3d(1, 2, 3), nn.AdaptiveAvgPool3d(1), nn.Flatten())
    with pytest.raises(ValueError, match="voxel_map.*Sequential has no voxel map"):
        saliency(net, torch.randn(1, 1, 8, 8, 8), method="voxel_map", class_idx=1)
