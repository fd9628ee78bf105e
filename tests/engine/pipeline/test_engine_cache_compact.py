"""Cases cached in memory are stored compact (uint8/int16 when exact, else float32) and read back as the same
float32 values; on disk they keep the pipeline's own dtype."""
import numpy as np
import pytest
import torch
from monai import transforms as T

from medtl.engine.pipeline.datasets import CaseCache, compact_array


@pytest.mark.parametrize("values, dtype", [
    (np.array([0.0, 1.0, 255.0]), torch.uint8),
    (np.array([-1024.0, 3071.0]), torch.int16),
    (np.array([0.0, 256.5]), torch.float32),
    (np.array([0.0, 40000.0]), torch.float32),
    (np.array([0.0, np.nan]), torch.float32),
])
def test_compact_dtype_is_the_smallest_that_is_exact(values, dtype):
    compact = compact_array(values.astype(np.float32))
    assert compact.dtype == dtype
    np.testing.assert_array_equal(compact.numpy().astype(np.float32), values.astype(np.float32))


class Decode(T.MapTransform):
    """Stands in for reading a case: an integer-valued volume, a fractional one and a 0/1 mask."""

    def __call__(self, data):
        seed = int(data["image"])
        rng = np.random.default_rng(seed)
        volume = rng.integers(-1000, 2000, (1, 8, 8, 8)).astype(np.float32)
        if seed % 2:
            volume = volume / 7.0
        return {**data, "image": volume, "mask": (volume > 0).astype(np.float32)}


def test_memory_cache_is_compact_and_returns_the_decoded_values_as_float32():
    items = [{"image": str(i), "y": i % 2} for i in range(4)]
    cache = CaseCache(items, T.Compose([Decode(keys="image")]), progress=False)
    assert [cache.data[i]["image"].dtype for i in range(4)] == [torch.int16, torch.float32] * 2
    assert cache.data[0]["mask"].dtype == torch.uint8
    for i, item in enumerate(items):
        case, expected = cache[i], Decode(keys="image")(item)
        assert case["image"].dtype == case["mask"].dtype == torch.float32 and case["y"] == i % 2
        np.testing.assert_array_equal(case["image"].numpy(), expected["image"])
        np.testing.assert_array_equal(case["mask"].numpy(), expected["mask"])


def test_disk_cache_keeps_the_pipeline_dtype(tmp_path):
    cache = CaseCache([{"image": "0"}], T.Compose([Decode(keys="image")]), cache_dir=tmp_path, progress=False)
    image = cache[0]["image"]
    assert image.dtype == torch.float32
    np.testing.assert_array_equal(image.numpy(), Decode(keys="image")({"image": "0"})["image"])
