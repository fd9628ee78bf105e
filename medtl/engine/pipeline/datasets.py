"""Cases decoded once, served per fold with per-epoch transforms.

The deterministic preprocessing (read, scale, resize) runs once per case: kept in memory (MONAI CacheDataset),
or on disk (`medtl.engine.pipeline.disk_cache`, memory-mapped) under a folder named by a hash of the pipeline's settings,
so a second run with the same settings skips decoding and a changed pipeline never reuses a stale cache.
A cohort whose decoded cases would not fit `data.cache_memory_gb` goes to disk on its own (`cache_mode`).
In memory, where RAM bounds the cache, arrays are kept compact: plain tensors (no MONAI metadata) in the
smallest dtype that holds their values exactly (0/1 masks and integer-valued volumes as uint8 or int16,
anything else float32), made float32 again when read, so no value changes. On disk they are stored as the
pipeline returns them, so they can be mapped rather than read and expanded.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from monai.data import CacheDataset, Dataset, get_track_meta, set_track_meta
from monai.transforms import Compose, Transform
from monai.utils import convert_to_numpy
from torch.utils.data import Subset

from medtl import __version__
from medtl.data.case_table import CaseTable
from medtl.engine.pipeline.disk_cache import ARRAY_KEYS, SOURCE_KEYS, DiskCache
from medtl.engine.pipeline.frozen_features import FrozenFeatures

CACHE_MODES = ("memory", "disk")
# Integer dtypes a cached array may shrink to, smallest first.
_COMPACT_DTYPES = (np.uint8, np.int16)


def default_cache_memory_gb() -> float:
    """What `data.cache_memory_gb` defaults to: half the machine's physical memory, shared by the processes
    torchrun starts on this machine (`LOCAL_WORLD_SIZE`), since each holds its own cache.

    Example:
        >>> default_cache_memory_gb() > 0
        True
    """
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return total / 2**30 / 2 / max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


def cache_bytes(items: Sequence[dict[str, Any]], input_size: Sequence[int]) -> int:
    """Bytes the decoded cases take at most in memory: one float32 channel of `input_size` per image and mask.

    Example:
        >>> cache_bytes([{"image": "a.png"}] * 1000, (224, 224)) / 2**20
        191.40625
    """
    arrays = sum(1 + ("mask" in item) for item in items)
    return arrays * 4 * math.prod(input_size)


def cache_mode(mode: str, items: Sequence[dict[str, Any]], input_size: Sequence[int],
               memory_gb: float | None = None) -> str:
    """`mode` ("memory" or "disk"), except that a "memory" cohort whose decoded cases exceed `memory_gb`
    (default `default_cache_memory_gb`) is cached on disk instead (memory-mapped files), and a line says so.

    Example:
        >>> cache_mode("memory", [{"image": "a.png"}] * 100_000, (224, 224), memory_gb=16.0)
        data.cache: 100000 decoded cases need 18.7 GB, over data.cache_memory_gb (16.0); caching them on disk
        'disk'
    """
    if mode not in CACHE_MODES:
        raise ValueError(f"data.cache must be one of {set(CACHE_MODES)}. Got {mode!r} instead.")
    budget = default_cache_memory_gb() if memory_gb is None else float(memory_gb)
    need = cache_bytes(items, input_size) / 2**30
    if mode == "disk" or need <= budget:
        return mode
    print(f"data.cache: {len(items)} decoded cases need {need:.1f} GB, over data.cache_memory_gb ({budget:.1f}); "
          "caching them on disk", flush=True)
    return "disk"


def case_items(table: CaseTable, classes: Sequence[str], with_mask: bool) -> list[dict[str, Any]]:
    """The per-case dicts the pipelines read: image (+series, mask), the class index `y` (-1 when the case is
    unlabelled or its label is not among `classes`) and the row position `row`, so predictions can be joined
    back to the table.

    Example:
        >>> import pandas as pd
        >>> t = CaseTable(pd.DataFrame({"case_id": ["a"], "patient_id": ["p"], "image": ["a.png"], "label": ["x"]}))
        >>> case_items(t, ["x"], with_mask=False)
        [{'image': 'a.png', 'y': 0, 'row': 0}]
    """
    items = []
    for row, case in enumerate(table.to_datalist()):
        item: dict[str, Any] = {"image": case["image"]}
        if "series" in case:
            item["series"] = case["series"]
        if with_mask:
            if "mask" not in case:
                raise ValueError(f"case {case['case_id']!r} ({case['image']}) has no mask, but the task needs one")
            item["mask"] = case["mask"]
        label = case.get("label")
        item["y"] = classes.index(label) if label in classes else -1
        item["row"] = row
        items.append(item)
    return items


def pipeline_key(**settings: Any) -> str:
    """A short hash of everything that shapes the preprocessed arrays (medtl's version included).

    Example:
        >>> pipeline_key(input_size=[64, 64], intensity="percentile") == pipeline_key(input_size=[96, 96], intensity="percentile")
        False
    """
    text = json.dumps({"medtl": __version__, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def compact_array(array: Any) -> torch.Tensor:
    """`array` as a plain tensor in the smallest dtype that holds every value exactly: uint8 or int16 when all
    values are integers in range, else float32.

    Example:
        >>> compact_array(np.array([[0.0, 1.0]], np.float32)).dtype, compact_array(np.array([0.5])).dtype
        (torch.uint8, torch.float32)
    """
    # numpy, not torch: torch runs these small whole-array passes on its intra-op threads, which costs more than
    # the work itself on a busy CPU.
    values = convert_to_numpy(array)
    if values.dtype.kind == "f" and values.size:
        low, high = values.min(), values.max()  # NaN fails both range tests below
        for dtype in _COMPACT_DTYPES:
            info = np.iinfo(dtype)
            if info.min <= low and high <= info.max:
                compact = values.astype(dtype)
                if np.array_equal(compact, values):
                    return torch.from_numpy(compact)
    return torch.from_numpy(values.astype(np.float32, copy=False))


def expanded_array(tensor: torch.Tensor) -> torch.Tensor:
    """A cached array back in float32 (see `compact_array`).

    Example:
        >>> expanded_array(torch.tensor([1, 2], dtype=torch.uint8))
        tensor([1., 2.])
    """
    if tensor.dtype == torch.float32:
        return tensor
    return torch.from_numpy(tensor.numpy().astype(np.float32))


class CompactArrays(Transform):
    """The last cached step: image and mask made compact with `compact_array`.

    Example:
        >>> CompactArrays()({"image": np.zeros((1, 4, 4), np.float32), "y": 1})["image"].dtype
        torch.uint8
    """

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        return {key: compact_array(value) if key in ARRAY_KEYS else value for key, value in data.items()}


class CaseCache:
    """Every case run through the deterministic `preprocess` pipeline once, in memory or on disk.

    With `cache_dir`, preprocessed cases are written there (`DiskCache`: memory-mapped `.npy` files named by a
    hash of the sources) and reused by later runs; pass a folder that `pipeline_key` names, so different
    pipelines never share one.
    In memory, arrays are cached compact (`compact_array`) and come back as float32 tensors. `frozen` keeps
    what a linear probe's frozen backbone computed for each case (`medtl.engine.training.probe`).

    Example:
        >>> cache = CaseCache(items, preprocess((64, 64), "percentile", False))  # doctest: +SKIP
        >>> train = cache.subset(np.arange(10), augment_and_finish)               # doctest: +SKIP
    """

    def __init__(self, items: list[dict[str, Any]], pipeline: Compose | Transform, cache_dir: str | Path | None = None,
                 num_workers: int = 0, progress: bool = True):
        self.items = items
        self.compact = cache_dir is None
        if self.compact:
            # One flat Compose: MONAI caches the steps before the first Randomizable, and a nested Compose is one.
            steps = pipeline.transforms if isinstance(pipeline, Compose) else (pipeline,)
            self.data = CacheDataset(items, Compose([*steps, CompactArrays()]), cache_rate=1.0,
                                     num_workers=num_workers or None, progress=progress)
        else:
            self.data = DiskCache(items, pipeline, cache_dir)
            self.data.build_missing(progress)
        self.frozen = FrozenFeatures()

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> dict[str, Any]:
        """The preprocessed case; its labels and row come from this run's items, never from the cache."""
        case = dict(self.data[index])
        if self.compact:
            case.update({key: expanded_array(case[key]) for key in ARRAY_KEYS if key in case})
        case.update({k: v for k, v in self.items[index].items() if k not in SOURCE_KEYS})
        return case

    def subset(self, rows: np.ndarray, transform: Callable) -> "CaseSubset":
        """The cases at `rows`, with `transform` applied afresh on every access (see `UntrackedDataset`)."""
        return CaseSubset(self, [int(r) for r in rows], transform)


class UntrackedDataset(Dataset):
    """A MONAI `Dataset` that runs its transform with MONAI's metadata tracking off. Cached cases are plain
    tensors and nothing after the cache reads metadata, so tracking would only cost time: it doubles the time
    MONAI's random affine, contrast and noise transforms take on a 64x64 image.

    Example:
        >>> from monai.transforms import RandGaussianNoised
        >>> data = UntrackedDataset([{"image": torch.zeros(1, 4, 4)}], RandGaussianNoised("image", prob=1.0))
        >>> type(data[0]["image"]).__name__
        'Tensor'
    """

    def _transform(self, index: int) -> Any:
        tracking = get_track_meta()
        set_track_meta(False)
        try:
            return super()._transform(index)
        finally:
            set_track_meta(tracking)


class CaseSubset(UntrackedDataset):
    """The cases of `cache` at `rows`, through `transform`; it knows both, so work done per case (a frozen
    backbone's features) can be kept on the cache and shared by every subset of it.

    Example:
        >>> data = CaseSubset(cache, [0, 2], pipes.eval)  # doctest: +SKIP
        >>> data.rows, len(data)                          # doctest: +SKIP
        ([0, 2], 2)
    """

    def __init__(self, cache: CaseCache, rows: list[int], transform: Callable):
        super().__init__(Subset(cache, rows), transform)
        self.cache, self.rows = cache, rows
