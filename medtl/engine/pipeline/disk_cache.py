"""Preprocessed cases on disk as memory-mapped `.npy` files, reused by later runs.

Each array of a case is one file, `<source hash>.<key>.npy` (see `source_hash`), written under a temporary
name and renamed into place, so a run killed mid-write, or two loader workers building the same case, never
leave a partial file behind. Reading maps the file copy-on-write: a case costs a file open, the arrays come
back as writable tensors whose changes stay private, and a random crop of a large volume reads only the pages
it covers. Arrays keep the dtype the pipeline gives them, without MONAI metadata, as the in-memory cache does.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from monai.utils import convert_to_numpy
from torch.utils.data import Dataset
from tqdm.auto import tqdm

SOURCE_KEYS = ("image", "series", "mask")
ARRAY_KEYS = ("image", "mask")


def source_hash(item: dict[str, Any]) -> str:
    """Hash of a case's source files (path, size, modification time), so an edited file is decoded afresh.

    Example:
        >>> len(source_hash({"image": __file__}))
        64
    """
    parts = []
    for key in SOURCE_KEYS:
        if key in item:
            path = Path(str(item[key]))
            stat = os.stat(path) if path.exists() and key != "series" else None
            parts.append([key, str(item[key]), stat.st_size if stat else None, stat.st_mtime_ns if stat else None])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


class DiskCache(Dataset):
    """`pipeline(item)`'s arrays for every item, computed on first access and kept in `folder`.

    Pass a folder that names the pipeline (`medtl.engine.pipeline.datasets.pipeline_key`): files are keyed by their
    sources only. Only the arrays (`image`, `mask`) are kept; other keys come from the items.

    Example:
        >>> from medtl.engine.pipeline.transforms import preprocess
        >>> pipeline = preprocess((64, 64), "percentile", False)
        >>> cache = DiskCache([{"image": "chest.png"}], pipeline, "cache/ab12")  # doctest: +SKIP
        >>> cache[0]["image"].shape  # doctest: +SKIP
        torch.Size([1, 64, 64])
    """

    def __init__(self, items: list[dict[str, Any]], pipeline: Callable[[dict[str, Any]], dict[str, Any]],
                 folder: str | Path):
        self.items, self.pipeline, self.folder = items, pipeline, Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def __len__(self) -> int:
        return len(self.items)

    def build_missing(self, progress: bool = True) -> int:
        """Decode now every case whose files are not in the folder yet (a case that cannot be decoded then stops
        a run before training, not in the middle of it); returns how many were built.

        Example:
            >>> DiskCache([{"image": "chest.png"}], pipeline, "cache/ab12").build_missing()  # doctest: +SKIP
            1
        """
        missing = [i for i, item in enumerate(self.items) if not all(p.is_file() for p in self._files(item).values())]
        for index in tqdm(missing, desc="disk cache", unit="case", disable=not progress or not missing, leave=False):
            self[index]
        return len(missing)

    def _files(self, item: dict[str, Any]) -> dict[str, Path]:
        return {key: self.folder / f"{source_hash(item)}.{key}.npy" for key in ARRAY_KEYS if key in item}

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = self.items[index]
        files = self._files(item)
        try:
            return {key: torch.from_numpy(np.load(path, mmap_mode="c")) for key, path in files.items()}
        except (OSError, ValueError, EOFError):  # not built yet, or unreadable: build it (again)
            pass
        case = self.pipeline(dict(item))
        arrays = {key: convert_to_numpy(case[key]) for key in files}
        for key, path in files.items():
            _write_atomically(path, arrays[key])
        return {key: torch.as_tensor(array) for key, array in arrays.items()}


def _write_atomically(path: Path, array: np.ndarray) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        with open(partial, "wb") as stream:
            np.save(stream, np.ascontiguousarray(array))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
