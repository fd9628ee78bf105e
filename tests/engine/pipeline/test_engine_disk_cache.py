import numpy as np
import torch

from medtl.engine.pipeline.disk_cache import DiskCache, source_hash


class CountingPipeline:
    """Builds a 1x4x4 image (and a mask when the item has one) whose values encode the item's name."""

    def __init__(self):
        self.calls = 0

    def __call__(self, item):
        self.calls += 1
        value = float(len(item["image"]))
        case = dict(item, image=np.full((1, 4, 4), value, np.float32))
        if "mask" in item:
            case["mask"] = np.eye(4, dtype=np.float32)[None]
        return case


def test_cases_are_built_once_and_then_mapped_from_disk(tmp_path):
    items = [{"image": "ab", "y": 0}, {"image": "abc", "mask": "m", "y": 1}]
    pipeline = CountingPipeline()
    first = DiskCache(items, pipeline, tmp_path)
    built = [first[i] for i in range(2)]
    again = DiskCache(items, pipeline, tmp_path)
    mapped = [again[i] for i in range(2)]
    assert pipeline.calls == 2
    assert sorted(p.name.split(".", 1)[1] for p in tmp_path.iterdir()) == ["image.npy", "image.npy", "mask.npy"]
    for b, m in zip(built, mapped):
        assert set(b) == set(m) and all(torch.equal(b[k], m[k]) for k in b)
    assert mapped[0]["image"][0, 0, 0] == 2.0 and "y" not in mapped[0]  # only arrays are kept
    assert isinstance(mapped[1]["mask"], torch.Tensor) and mapped[1]["mask"].dtype == torch.float32


def test_changing_a_mapped_case_leaves_the_file_alone(tmp_path):
    cache = DiskCache([{"image": "ab"}], CountingPipeline(), tmp_path)
    cache[0]
    case = cache[0]
    case["image"].mul_(0)  # copy-on-write: private to this tensor
    assert cache[0]["image"].max() == 2.0


def test_a_truncated_or_leftover_file_is_rebuilt_and_no_partial_file_remains(tmp_path):
    pipeline = CountingPipeline()
    cache = DiskCache([{"image": "abc"}], pipeline, tmp_path)
    cache[0]
    path = tmp_path / f"{source_hash({'image': 'abc'})}.image.npy"
    path.write_bytes(path.read_bytes()[:-10])  # e.g. a disk that filled up under an older writer
    assert cache[0]["image"].shape == (1, 4, 4) and pipeline.calls == 2
    assert np.load(path).shape == (1, 4, 4)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_an_edited_source_file_is_built_afresh(tmp_path):
    source = tmp_path / "img.txt"
    source.write_text("a")
    pipeline = CountingPipeline()
    cache = DiskCache([{"image": str(source)}], pipeline, tmp_path / "cache")
    cache[0]
    source.write_text("ab")  # new size, so a new hash
    cache[0]
    assert pipeline.calls == 2
