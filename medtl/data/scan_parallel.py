"""Reading the headers (and hashing the bytes) of many folders' files in parallel worker processes."""
from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from medtl.data.case_table import Problem
from medtl.io import scan_files
from medtl.io.image import ImageHeader

Row = dict[str, Any]
RowMaker = Callable[[ImageHeader], Row]
FolderScan = tuple[list[Row], list[Problem]]

PARALLEL_FROM = 1000  # files; below this, starting worker processes costs more than it saves
CHUNK_FILES = 256  # files per task: few enough tasks to keep the overhead low, enough to balance the workers


def scan_worker_count() -> int:
    """Worker processes for a scan: `$MEDTL_SCAN_WORKERS`, else the CPUs this process may use (at most 16),
    shared by the processes torchrun starts on this machine (`LOCAL_WORLD_SIZE`), which all scan.

    Example:
        >>> scan_worker_count() >= 1
        True
    """
    if os.environ.get("MEDTL_SCAN_WORKERS"):
        return max(1, int(os.environ["MEDTL_SCAN_WORKERS"]))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(16, cpus // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))))


def scan_folder_files(paths: list[Path], make_row: RowMaker) -> FolderScan:
    """The case rows and problems of files that lie in one folder (so DICOM slices meet their series).

    Example:
        >>> from medtl.data.layouts.layout_class_folders import folder_case_row
        >>> from pydicom.data import get_testdata_file
        >>> path = Path(get_testdata_file("CT_small.dcm"))
        >>> rows, problems = scan_folder_files([path], lambda h: folder_case_row(h, path.parent, False))
        >>> rows[0]["shape"], problems
        ('128x128', [])
    """
    headers, problems = scan_files(paths)
    return [make_row(header) for header in headers], problems


def scan_folders(groups: list[list[Path]], make_row: RowMaker, workers: int | None = None) -> list[FolderScan]:
    """`scan_folder_files` of each group, in order; in `workers` processes (default `scan_worker_count`) when
    there are at least `PARALLEL_FROM` files, with a progress bar counting files. `make_row` must pickle (a
    module-level function or a `functools.partial` of one).

    Example:
        >>> scan_folders([], print)
        []
    """
    total = sum(len(group) for group in groups)
    workers = scan_worker_count() if workers is None else workers
    with tqdm(total=total, unit="file", desc="scan", disable=None, leave=False) as progress:
        if workers < 2 or total < PARALLEL_FROM:
            results = []
            for group in groups:
                results.append(scan_folder_files(group, make_row))
                progress.update(len(group))
            return results
        return _in_workers(groups, make_row, workers, progress)


def _in_workers(groups: list[list[Path]], make_row: RowMaker, workers: int, progress: tqdm) -> list[FolderScan]:
    chunks: list[list[int]] = [[]]
    size = 0
    for i, group in enumerate(groups):
        if size >= CHUNK_FILES:
            chunks.append([])
            size = 0
        chunks[-1].append(i)
        size += len(group)
    results: list[FolderScan | None] = [None] * len(groups)
    # fork where there is one, as torch's DataLoader does on Linux: workers start at once and a user's script
    # needs no `if __name__ == "__main__"` guard; the workers only read files
    method = "fork" if "fork" in get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=get_context(method)) as pool:
        futures = {pool.submit(_scan_chunk, [groups[i] for i in chunk], make_row): chunk for chunk in chunks}
        for future in as_completed(futures):
            chunk = futures[future]
            for i, result in zip(chunk, future.result()):
                results[i] = result
            progress.update(sum(len(groups[i]) for i in chunk))
    return results  # type: ignore[return-value]


def _scan_chunk(groups: list[list[Path]], make_row: RowMaker) -> list[FolderScan]:
    return [scan_folder_files(group, make_row) for group in groups]
