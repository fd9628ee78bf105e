"""The scan index's file: read (anything unreadable or foreign is ignored with a warning) and written atomically.

One JSON object of flat lists, which parse several times faster than an object per file or row: the folders,
each one's count of files and of rows; every file's name, size and modification time, folder after folder; every
row's values, one list per key (`rows`), in the same order; and the problems of the folders that have some.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from medtl.data.case_table import Problem
from medtl.data.folder_walk import Signature
from medtl.data.scan_parallel import Row

FORMAT = 3
Folders = dict[str, tuple[dict[str, Signature], list[Row], list[Problem]]]  # folder -> files, rows, problems
RACY_NS = 2_000_000_000  # a file modified this close to a scan may change again without its signature changing


def load_index(index_file: Path) -> Folders:
    """The folders an index file holds; none when it is missing, written by another version of medtl, or
    unreadable (then with a warning: the scan reads every file and writes a new one).

    Example:
        >>> load_index(Path("/nowhere/index.json"))
        {}
    """
    try:
        text = index_file.read_text()
    except (FileNotFoundError, NotADirectoryError):
        return {}  # no index yet
    except (OSError, UnicodeDecodeError) as err:
        return _ignored(index_file, f"unreadable scan index ({err})")
    try:
        data = json.loads(text)
        if isinstance(data.get("format"), int) and data["format"] != FORMAT:
            return {}  # written by another version of medtl
        if data["format"] != FORMAT:
            raise ValueError(f"format {data['format']!r}")
        return _folders(data)
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        return _ignored(index_file, f"not a scan index ({type(err).__name__}: {err})")


def _folders(data: dict[str, Any]) -> Folders:
    signatures = list(zip(data["sizes"], data["mtimes"], strict=True))
    names, problems, columns = data["names"], data["problems"], data["rows"]
    rows = [dict(zip(columns, values)) for values in zip(*columns.values(), strict=True)]
    counts = list(zip(data["folders"], data["file_counts"], data["row_counts"], strict=True))
    if sum(n for _, n, _ in counts) != len(names) or sum(n for *_, n in counts) != len(rows):
        raise ValueError("its counts of files and rows do not add up")
    folders: Folders = {}
    file, row = 0, 0
    for folder, file_count, row_count in counts:
        files = dict(zip(names[file: file + file_count], signatures[file: file + file_count], strict=True))
        folders[folder] = files, rows[row: row + row_count], [Problem(*p) for p in problems.get(folder, [])]
        file, row = file + file_count, row + row_count
    return folders


def save_index(index_file: Path, folders: Folders, started_ns: int) -> None:
    """Write `folders` to `index_file` atomically (a partial file, then a rename). A file modified since
    `started_ns` (or within the file system's timestamp resolution of it) is stored as never to be trusted, so
    the next scan reads it again. A file that cannot be written leaves a warning; the scan stands without it.

    Example:
        >>> save_index(Path("index.json"), {"/d/p1": ({"a.png": (3120, 17)}, [], [])}, 0)  # doctest: +SKIP
    """
    racy = started_ns - RACY_NS
    entries = folders.values()
    rows = [row for _, folder_rows, _ in entries for row in folder_rows]
    data = {
        "format": FORMAT, "folders": list(folders),
        "file_counts": [len(files) for files, _, _ in entries], "row_counts": [len(folder_rows) for _, folder_rows, _ in entries],
        "names": [name for files, _, _ in entries for name in files],
        "sizes": [size for files, _, _ in entries for size, _ in files.values()],
        "mtimes": [mtime if mtime < racy else -1 for files, _, _ in entries for _, mtime in files.values()],
        "rows": {key: [row[key] for row in rows] for key in (rows[0] if rows else ())},
        "problems": {folder: [[p.path, p.reason, p.severity] for p in problems]
                     for folder, (_, _, problems) in folders.items() if problems},
    }
    partial = index_file.with_name(f"{index_file.name}.{os.getpid()}.partial")  # torchrun's ranks all scan
    try:
        index_file.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(data, separators=(",", ":")))
        partial.replace(index_file)
    except OSError as err:  # the scan stands without its index; the next one reads every file again
        if partial.parent.is_dir():
            partial.unlink(missing_ok=True)
        warnings.warn(f"{index_file}: cannot write the scan index ({err.strerror or err}); the next scan of "
                      "this folder reads every file again", stacklevel=3)


def _ignored(index_file: Path, why: str) -> Folders:
    warnings.warn(f"{index_file}: {why}; ignored: this scan reads every file and writes a new index",
                  stacklevel=4)
    return {}
