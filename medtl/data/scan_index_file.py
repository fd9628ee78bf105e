"""The scan index's file: read (anything unreadable or foreign is ignored with a warning) and written atomically.

One JSON object of flat lists, which parse several times faster than an object per file or row: the folders,
each one's count of files and of rows; every file's name, size and modification time, folder after folder; every
row's values, one list per key (`rows`), in the same order; and the problems of the folders that have some.
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medtl.data.case_table import Problem
from medtl.data.folder_walk import Listing, Signature
from medtl.data.scan_parallel import Row

FORMAT = 3
Folders = dict[str, tuple[dict[str, Signature], list[Row], list[Problem]]]  # folder -> files, rows, problems
RACY_NS = 2_000_000_000  # a file modified this close to a scan may change again without its signature changing


@dataclass
class StoredIndex:
    """An index file's contents, flat as stored: folders with their counts of files and rows, the files' names,
    sizes and times folder after folder, the rows in the same order, and each folder's problems.

    Example:
        >>> index = StoredIndex(["/d/p1"], [1], [0], ["a.png"], [3120], [17], [], {})
        >>> index.holds({"/d/p1": {"a.png": (3120, 17)}}), index.folder_entries()
        (True, {'/d/p1': ({'a.png': (3120, 17)}, [], [])})
    """

    folders: list[str]
    file_counts: list[int]
    row_counts: list[int]
    names: list[str]
    sizes: list[int]
    mtimes: list[int]
    rows: list[Row]
    problems: dict[str, list[Problem]]

    def holds(self, listing: Listing) -> bool:
        """True when `listing` has the folders and files stored, in the same order, with the same sizes and
        times (an untrusted time, -1, never matches): then every row and problem stored stands as it is."""
        files = listing.values()
        return (self.folders == list(listing) and self.file_counts == [len(names) for names in files]
                and self.names == [name for names in files for name in names]
                and self.mtimes == [mtime for names in files for _, mtime in names.values()]
                and self.sizes == [size for names in files for size, _ in names.values()])

    def all_problems(self) -> list[Problem]:
        """Every folder's problems, folder after folder."""
        return [problem for folder in self.folders for problem in self.problems.get(folder, [])]

    def folder_entries(self) -> Folders:
        """Each folder's files with their signatures, rows and problems."""
        signatures = list(zip(self.sizes, self.mtimes))
        folders: Folders = {}
        file, row = 0, 0
        for folder, file_count, row_count in zip(self.folders, self.file_counts, self.row_counts):
            files = dict(zip(self.names[file: file + file_count], signatures[file: file + file_count]))
            folders[folder] = files, self.rows[row: row + row_count], self.problems.get(folder, [])
            file, row = file + file_count, row + row_count
        return folders


def load_index(index_file: Path) -> StoredIndex | None:
    """What an index file holds; None when it is missing, written by another version of medtl, or unreadable
    (then with a warning: the scan reads every file and writes a new one).

    Example:
        >>> load_index(Path("/nowhere/index.json")) is None
        True
    """
    try:
        text = index_file.read_text()
    except (FileNotFoundError, NotADirectoryError):
        return None  # no index yet
    except (OSError, UnicodeDecodeError) as err:
        return _ignored(index_file, f"unreadable scan index ({err})")
    try:
        data = json.loads(text)
        if isinstance(data.get("format"), int) and data["format"] != FORMAT:
            return None  # written by another version of medtl
        if data["format"] != FORMAT:
            raise ValueError(f"format {data['format']!r}")
        return _stored(data)
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        return _ignored(index_file, f"not a scan index ({type(err).__name__}: {err})")


def _stored(data: dict[str, Any]) -> StoredIndex:
    columns = data["rows"]
    rows = [dict(zip(columns, values)) for values in zip(*columns.values(), strict=True)]
    index = StoredIndex(data["folders"], data["file_counts"], data["row_counts"], data["names"], data["sizes"],
                        data["mtimes"], rows, {folder: [Problem(*p) for p in problems]
                                               for folder, problems in data["problems"].items()})
    if not (len(index.folders) == len(index.file_counts) == len(index.row_counts)
            and sum(index.file_counts) == len(index.names) == len(index.sizes) == len(index.mtimes)
            and sum(index.row_counts) == len(rows)):
        raise ValueError("its counts of folders, files and rows do not add up")
    return index


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
        "file_counts": [len(files) for files, _, _ in entries],
        "row_counts": [len(folder_rows) for _, folder_rows, _ in entries],
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


def _ignored(index_file: Path, why: str) -> None:
    warnings.warn(f"{index_file}: {why}; ignored: this scan reads every file and writes a new index",
                  stacklevel=4)
