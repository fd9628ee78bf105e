"""Cases decoded once and kept in memory (MONAI CacheDataset), served per fold with per-epoch transforms."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
from monai.data import CacheDataset, Dataset
from torch.utils.data import Subset

from medtl.data.case_table import CaseTable


def case_items(table: CaseTable, classes: Sequence[str], with_mask: bool) -> list[dict[str, Any]]:
    """The per-case dicts the pipelines read: image (+series, mask), the class index `y` (-1 when the case is
    unlabelled or its label is not among `classes`)
    and the row position `row`, so predictions can be joined back to the table.

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


class CaseCache:
    """Every case of a table run through the deterministic `preprocess` pipeline once.

    Example:
        >>> cache = CaseCache(items, preprocess((64, 64), "percentile", False))  # doctest: +SKIP
        >>> train = cache.subset(np.arange(10), augment_and_finish)               # doctest: +SKIP
    """

    def __init__(self, items: list[dict[str, Any]], pipeline: Callable, num_workers: int = 0, progress: bool = True):
        self.data = CacheDataset(items, pipeline, cache_rate=1.0, num_workers=num_workers or None, progress=progress)

    def __len__(self) -> int:
        return len(self.data)

    def subset(self, rows: np.ndarray, transform: Callable) -> Dataset:
        """The cases at `rows`, with `transform` applied afresh on every access."""
        return Dataset(Subset(self.data, [int(r) for r in rows]), transform)
