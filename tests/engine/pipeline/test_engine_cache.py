import numpy as np
import pytest
from PIL import Image

import medtl.engine.pipeline.transforms as mt
from medtl.config import ExperimentConfig
from medtl.engine.training.setup import Pipelines, case_cache


def write_pngs(folder, n=4):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = folder / f"img{i}.png"
        Image.fromarray(rng.integers(0, 255, (24, 24), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths


def config(size):
    return ExperimentConfig.from_dict({"data": {"cache": "disk"}, "transforms": {"input_size": [size, size]}})


def test_disk_cache_is_reused_and_never_stale(tmp_path, monkeypatch):
    paths = write_pngs(tmp_path / "png")
    items = [{"image": p, "y": i % 2, "row": i} for i, p in enumerate(paths)]
    pipes = Pipelines.from_config(config(16))
    first = case_cache(config(16), items, pipes, progress=False)
    arrays = [np.asarray(first[i]["image"]) for i in range(4)]
    cached_files = list(first.data.folder.glob("*.npy"))
    assert len(cached_files) == 4

    decoded = []
    real = mt.read_image
    monkeypatch.setattr(mt, "read_image", lambda *a, **k: decoded.append(a[0]) or real(*a, **k))
    again = case_cache(config(16), list(reversed(items)), pipes, progress=False)
    assert [again[i]["row"] for i in range(4)] == [3, 2, 1, 0]  # labels and rows come from this run
    assert np.allclose(np.asarray(again[0]["image"]), arrays[3])
    assert decoded == []  # nothing decoded: every case came from the cache

    other = Pipelines.from_config(config(12))  # a changed pipeline gets its own folder
    assert other.key != pipes.key
    resized = case_cache(config(12), items, other, progress=False)
    assert [np.asarray(resized[i]["image"]).shape for i in range(4)] == [(1, 12, 12)] * 4
    assert len(decoded) == 4

    Image.fromarray(np.zeros((24, 24), np.uint8)).save(paths[0])  # an edited file is decoded afresh
    fresh = case_cache(config(16), items, pipes, progress=False)
    assert np.asarray(fresh[0]["image"]).max() == 0 and len(decoded) == 5


def test_unknown_cache_mode_is_refused_when_the_config_is_read():
    with pytest.raises(ValueError, match="data.cache must be one of"):
        ExperimentConfig.from_dict({"data": {"cache": "ssd"}})


def test_subsets_augment_plain_tensors_and_reseeding_repeats_an_epoch(tmp_path):
    from monai.data import MetaTensor, get_track_meta

    from medtl.engine.training.objective import reseed

    paths = write_pngs(tmp_path / "png")
    cfg = ExperimentConfig.from_dict({"transforms": {"input_size": [16, 16]}})
    pipes = Pipelines.from_config(cfg)
    cache = case_cache(cfg, [{"image": p, "y": 0, "row": i} for i, p in enumerate(paths)], pipes, progress=False)
    data = cache.subset(np.arange(4), pipes.train)
    epochs = []
    for _ in range(2):
        reseed(data, seed=3, epoch=0)
        epochs.append([data[i]["image"] for i in range(4)])
    assert not any(isinstance(image, MetaTensor) for image in epochs[0])
    assert all(np.array_equal(a, b) for a, b in zip(*epochs))
    assert not all(np.array_equal(a, b) for a, b in zip(epochs[0], [data[i]["image"] for i in range(4)]))
    assert get_track_meta()  # the switch is restored for everything else
