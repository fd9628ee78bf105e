"""The scan index: what a scan found in each folder, keyed by every file's path, size and modification time, so
a rescan reads only the files that are new or changed.

Kept in `$MEDTL_HOME/scan-index/` (default `~/.cache/medtl`), one JSON file per dataset root and layout.
A folder whose files are all unchanged is taken from the index; in a folder where some changed, only those are
read, unless one of them shares a DICOM series with the folder's other files or the folder held a volume made of
several files: then the folder's files are read together, since a slice can change its volume.
Written by hand: no library caches per-file scan results of a folder tree.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from medtl.data.case_table import COLUMNS, Problem
from medtl.data.scan_parallel import FolderScan, Row, RowMaker, scan_folders

FORMAT = 2
Signature = tuple[int, int]  # (size in bytes, modification time in ns); (size, -1) is never trusted


@dataclass
class FolderEntry:
    """What the index holds for one folder: its files' signatures, and the rows and problems they gave."""

    files: dict[str, Signature]
    rows: list[Row]
    problems: list[Problem]

    def makes_volume(self, folder: str) -> bool:
        """True when a row or problem stands for the folder itself (a DICOM series of several files)."""
        return any(r["image"] == folder for r in self.rows) or any(p.path == folder for p in self.problems)


@dataclass
class ScanReport:
    """How a scan used the index: files read, files taken from the index.

    Example:
        >>> ScanReport(read=1, reused=9).read
        1
    """

    read: int = 0
    reused: int = 0


def index_path(root: Path, layout: str) -> Path:
    """Where the index of `root` scanned as `layout` is kept.

    Example:
        >>> index_path(Path("/data/cxr"), "class-folders").parent.name
        'scan-index'
    """
    # $MEDTL_HOME as medtl.models.checkpoints.cache.medtl_home reads it; that module would import torch with it
    home = Path(os.environ.get("MEDTL_HOME") or "~/.cache/medtl").expanduser()
    key = hashlib.sha1(f"{Path(root).absolute()}|{layout}|{COLUMNS}".encode()).hexdigest()[:20]
    return home / "scan-index" / f"{key}.json"


def indexed_scan(
    files: list[Path], make_row: RowMaker, index_file: Path, workers: int | None = None
) -> tuple[list[Row], list[Problem], ScanReport]:
    """Case rows and problems of `files`, reading only what the index at `index_file` does not hold unchanged,
    and the index brought up to date. `make_row` turns a header into a row (see `scan_folders`).

    Example:
        >>> from functools import partial
        >>> from medtl.data.layouts.layout_class_folders import folder_case_row
        >>> from medtl.data.folder_walk import list_files
        >>> root = Path("chest_xrays")  # doctest: +SKIP
        >>> rows, problems, report = indexed_scan(list_files(root), partial(folder_case_row, root=root,
        ...     labelled=True), index_path(root, "class-folders"))  # doctest: +SKIP
        >>> report.read, report.reused  # doctest: +SKIP
        (0, 5033)
    """
    started = time.time_ns()
    entries = _load(index_file)
    current: dict[str, dict[str, Signature]] = defaultdict(dict)
    paths: dict[str, list[Path]] = defaultdict(list)
    for path in files:  # os.path on strings: pathlib's parsing would cost more than the stat
        folder, name = os.path.split(text := str(path))
        stat = os.stat(text)
        current[folder][name] = (stat.st_size, stat.st_mtime_ns)
        paths[folder].append(path)
    report = ScanReport()
    result: dict[str, FolderEntry] = {}
    to_read: dict[str, list[Path]] = {}
    for folder, signatures in current.items():
        entry = entries.get(folder)
        kept = _still_valid(entry, folder, signatures) if entry else None
        if kept is None:
            to_read[folder] = paths[folder]
        else:
            result[folder] = kept
            to_read[folder] = [p for p in paths[folder] if p.name not in kept.files]
            if not to_read[folder]:
                del to_read[folder]
    scans = dict(zip(to_read, scan_folders(list(to_read.values()), make_row, workers)))
    report.read = sum(len(read) for read in to_read.values())
    again = [f for f, scan in scans.items() if f in result and _joins_a_series(scan, result[f])]
    scans.update(zip(again, scan_folders([paths[f] for f in again], make_row, workers)))
    for folder in again:
        result.pop(folder)
        to_read[folder] = paths[folder]
        report.read += len(paths[folder])
    for folder, (rows, problems) in scans.items():
        old = result.get(folder, FolderEntry({}, [], []))
        fresh = {p.name: current[folder][p.name] for p in to_read[folder]}
        result[folder] = FolderEntry({**old.files, **fresh}, old.rows + rows, old.problems + problems)
    report.reused = len(files) - sum(len(read) for read in to_read.values())
    if any(result.get(folder) is not entries.get(folder) for folder in result.keys() | entries.keys()):
        _save(index_file, result, started)  # some folder changed (an unchanged one is its own entry)
    rows = [row for entry in result.values() for row in entry.rows]
    problems = [problem for entry in result.values() for problem in entry.problems]
    return rows, problems, report


def _still_valid(entry: FolderEntry, folder: str, signatures: dict[str, Signature]) -> FolderEntry | None:
    """The part of a folder's entry that still holds (rows and problems of unchanged files), or None when the
    whole folder must be read again."""
    if entry.files == signatures:  # an untrusted file's stored signature never matches: its time is -1
        return entry
    if entry.makes_volume(folder):
        return None
    unchanged = {name for name, sig in entry.files.items() if sig[1] >= 0 and signatures.get(name) == sig}
    rows = [r for r in entry.rows if Path(r["image"]).name in unchanged]
    problems = [p for p in entry.problems if Path(p.path).name in unchanged]
    return FolderEntry({name: entry.files[name] for name in unchanged}, rows, problems)


def _joins_a_series(scan: FolderScan, kept: FolderEntry) -> bool:
    """True when a newly read file belongs to a DICOM series that files kept from the index also belong to."""
    series = {r["series"] for r in kept.rows if r.get("series")}
    return any(r.get("series") in series for r in scan[0])


def _load(index_file: Path) -> dict[str, FolderEntry]:
    try:
        data = json.loads(index_file.read_text())
    except (OSError, ValueError):
        return {}  # no index yet, or one that cannot be read: the scan reads every file and writes a new one
    if data.get("format") != FORMAT:
        return {}
    return {
        folder: FolderEntry({name: tuple(sig) for name, sig in e["files"].items()}, e["rows"],
                            [Problem(*p) for p in e["problems"]])
        for folder, e in data["folders"].items()
    }


def _save(index_file: Path, entries: dict[str, FolderEntry], started_ns: int) -> None:
    # A file modified while the scan ran (or within the file system's timestamp resolution of it) may change
    # again without its signature changing: it is stored as never trusted, so the next scan reads it again.
    racy = started_ns - 2_000_000_000
    folders = {
        folder: {
            "files": {name: [size, mtime if mtime < racy else -1] for name, (size, mtime) in e.files.items()},
            "rows": e.rows,
            "problems": [[p.path, p.reason, p.severity] for p in e.problems],
        }
        for folder, e in entries.items()
    }
    partial = index_file.with_name(f"{index_file.name}.{os.getpid()}.partial")  # torchrun's ranks all scan
    try:
        index_file.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps({"format": FORMAT, "folders": folders}))
        partial.replace(index_file)
    except OSError as err:  # the scan stands without its index; the next one reads every file again
        if partial.parent.is_dir():
            partial.unlink(missing_ok=True)
        warnings.warn(f"{index_file}: cannot write the scan index ({err.strerror or err}); the next scan of "
                      "this folder reads every file again", stacklevel=3)
