"""Saliency, predicted class and the randomisation check of an ensemble (e.g. the fold models of a CV run)."""
import pytest
import torch
import torch.nn as nn

from medtl.explain import saliency
from medtl.explain.maps import predicted_class
from medtl.explain.faithfulness import randomization_check


def tiny_cnn(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3)).eval()


@pytest.mark.parametrize("method", ["gradcam", "gradcampp", "occlusion"])
def test_an_ensembles_map_is_the_rescaled_mean_of_its_models_maps(method):
    models, images = [tiny_cnn(0), tiny_cnn(1)], torch.rand(3, 1, 16, 16, generator=torch.Generator().manual_seed(2))
    alone = [saliency(m, images, "3", method, class_idx=1) for m in models]
    together = saliency(models, images, "3", method, class_idx=1)
    mean = (alone[0] + alone[1]) / 2
    low, high = mean.flatten(1).amin(1).view(-1, 1, 1), mean.flatten(1).amax(1).view(-1, 1, 1)
    torch.testing.assert_close(together, (mean - low) / (high - low))
    assert not torch.allclose(alone[0], alone[1], atol=1e-3)  # the models disagree, so the mean is a test
    torch.testing.assert_close(saliency(models[:1], images, "3", method, 1), alone[0])


def test_an_ensemble_predicts_the_class_of_its_highest_mean_probability():
    first, second = nn.Linear(4, 3), nn.Linear(4, 3)
    with torch.no_grad():
        for model, logits in ((first, [4.0, 3.9, -9.0]), (second, [-9.0, 3.0, 0.0])):
            model.weight.zero_()
            model.bias.copy_(torch.tensor(logits))
    images = torch.rand(2, 4)
    assert predicted_class(first, images).tolist() == [0, 0] and predicted_class(second, images).tolist() == [1, 1]
    assert predicted_class([first, second], images).tolist() == [1, 1]  # class 1 has the highest mean probability


def test_the_randomisation_check_resets_every_model_of_an_ensemble():
    models, images = [tiny_cnn(0), tiny_cnn(1)], torch.rand(2, 1, 16, 16)
    correlation = randomization_check(models, images, "3", layers_to_reset=1, class_idx=0)
    assert -1.0 <= correlation <= 1.0
    assert correlation != pytest.approx(randomization_check(models[0], images, "3", layers_to_reset=1, class_idx=0))


def test_an_empty_ensemble_is_refused():
    with pytest.raises(ValueError, match="at least one model"):
        saliency([], torch.rand(1, 1, 8, 8), "3")


def test_without_a_class_an_ensemble_explains_its_own_prediction_not_each_members():
    models = [tiny_cnn(0), tiny_cnn(1)]
    with torch.no_grad():  # the first model leans to class 0, the second, more surely, to class 1
        models[0][-1].bias.copy_(torch.tensor([3.0, 0.0, 0.0]))
        models[1][-1].bias.copy_(torch.tensor([0.0, 5.0, 0.0]))
    images = torch.rand(6, 1, 16, 16, generator=torch.Generator().manual_seed(3))
    ensemble_class = predicted_class(models, images)
    assert any(not torch.equal(predicted_class(m, images), ensemble_class) for m in models)  # members disagree
    torch.testing.assert_close(saliency(models, images, "3"), saliency(models, images, "3", class_idx=ensemble_class))
