"""The decoded-case cache follows the data: a cohort larger than `data.cache_memory_gb` is cached on disk,
says so, and trains from the mapped files."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import medtl.engine.pipeline.transforms as mt
from medtl.data import scan_folder
from medtl.engine.workflows.classifier import Classifier
from medtl.engine.pipeline.datasets import cache_bytes, cache_mode, default_cache_memory_gb
from medtl.synth import make_xray


def test_the_budget_decides_and_an_explicit_disk_cache_stays(capsys: pytest.CaptureFixture) -> None:
    items = [{"image": "a.png"}, {"image": "b.png", "mask": "m.nii"}]
    assert cache_bytes(items, (32, 32)) == 3 * 4 * 32 * 32
    assert cache_mode("memory", items, (32, 32), memory_gb=1.0) == "memory"
    assert cache_mode("disk", items, (32, 32), memory_gb=1.0) == "disk"
    assert capsys.readouterr().out == ""
    assert cache_mode("memory", items, (32, 32), memory_gb=1e-6) == "disk"
    assert "caching them on disk" in capsys.readouterr().out
    with pytest.raises(ValueError, match="data.cache must be one of"):
        cache_mode("ssd", items, (32, 32))


def test_the_default_budget_is_shared_by_the_processes_of_a_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    alone = default_cache_memory_gb()
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert default_cache_memory_gb() == pytest.approx(alone / 4)


@pytest.mark.slow
def test_a_cohort_over_budget_trains_from_disk(tmp_path: Path, capsys: pytest.CaptureFixture,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    table = scan_folder(make_xray(tmp_path / "data", patients=6, size=32, seed=1) / "images")
    config = {"model": {"backbone": "resnet18", "weights": "none"}, "transforms": {"input_size": [32, 32]},
              "train": {"epochs": 1, "batch_size": 4}, "data": {"cache_memory_gb": 1e-6}}
    decoded: list[str] = []
    real = mt.read_image
    monkeypatch.setattr(mt, "read_image", lambda *a, **k: decoded.append(a[0]) or real(*a, **k))
    clf = Classifier(config).fit(table)
    assert "caching them on disk" in capsys.readouterr().out
    folder = Path(os.environ["MEDTL_HOME"]) / "cache" / "preprocessed"
    assert len(list(folder.rglob("*.image.npy"))) == len(decoded) >= len(table) - 4  # the last part-batch is dropped
    assert np.isfinite(clf.history_["loss"]).all()
    proba = clf.predict_proba(table)  # read back from the mapped files: only cases not seen yet are decoded
    assert len(list(folder.rglob("*.image.npy"))) == len(decoded) == len(table)
    assert np.allclose(proba.filter(like="p_").sum(axis=1), 1.0, atol=1e-5)
