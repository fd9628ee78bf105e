"""`Classifier.save` writes a `medtl train` run folder that `Classifier.load` and `medtl predict` read back."""
import json

import pandas as pd
import pytest

from medtl.data import scan_folder
from medtl.engine.workflows.classifier import Classifier, NotFittedError
from medtl.engine.workflows.trained_model import load_trained_model
from medtl.synth import make_xray


def test_a_saved_classifier_loads_back_and_predicts_the_same(tmp_path):
    table = scan_folder(make_xray(tmp_path / "data", patients=6, size=32, seed=1), layout="csv")
    config = {"model": {"weights": "none"}, "transforms": {"input_size": [32, 32]},
              "train": {"epochs": 1, "batch_size": 8}}
    with pytest.raises(NotFittedError, match="before save"):
        Classifier(config).save(tmp_path / "never")
    clf = Classifier(config).fit(table)
    folder = clf.save(tmp_path / "model")
    assert json.loads((folder / "model.json").read_text()) == {"backbone": "resnet18", "classes": clf.classes_,
                                                               "positive": clf.positive_}
    assert load_trained_model(folder).kind == "train run"
    loaded = Classifier.load(folder)
    assert (loaded.classes_, loaded.positive_) == (clf.classes_, clf.positive_)
    pd.testing.assert_frame_equal(loaded.history_, clf.history_)
    pd.testing.assert_frame_equal(loaded.predict_proba(table), clf.predict_proba(table), atol=1e-6)
