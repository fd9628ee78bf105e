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
import os
import time
from dataclasses import dataclass
from pathlib import Path

from medtl.data.case_table import COLUMNS, Problem
from medtl.data.folder_walk import Listing, Signature
from medtl.data.scan_index_file import load_index, save_index
from medtl.data.scan_parallel import FolderScan, Row, RowMaker, scan_folders


@dataclass
class FolderEntry:
    """What the index holds for one folder: its files' signatures, and the rows and problems they gave.

    Example:
        >>> FolderEntry({"a.dcm": (3120, 17)}, [{"image": "/d/p1"}], []).makes_volume("/d/p1")
        True
    """

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
    listing: Listing, make_row: RowMaker, index_file: Path, workers: int | None = None
) -> tuple[list[Row], list[Problem], ScanReport]:
    """Case rows and problems of the files of `listing` (see `survey`), reading only what the index at
    `index_file` does not hold unchanged, and the index brought up to date. `make_row` turns a header into a
    row (see `scan_folders`).

    Example:
        >>> from functools import partial
        >>> from medtl.data.layouts.layout_class_folders import folder_case_row
        >>> from medtl.data.folder_walk import survey
        >>> root = Path("chest_xrays")  # doctest: +SKIP
        >>> rows, problems, report = indexed_scan(survey(root)[0], partial(folder_case_row, root=root,
        ...     labelled=True), index_path(root, "class-folders"))  # doctest: +SKIP
        >>> report.read, report.reused  # doctest: +SKIP
        (0, 5033)
    """
    started = time.time_ns()
    stored = load_index(index_file)
    if stored is not None and stored.holds(listing):  # nothing changed: no file to read, no index to write
        return stored.rows, stored.all_problems(), ScanReport(reused=len(stored.names))
    entries = {folder: FolderEntry(*entry) for folder, entry in (stored.folder_entries() if stored else {}).items()}
    result: dict[str, FolderEntry] = {}
    to_read: dict[str, list[str]] = {}  # folder -> names of the files to read
    for folder, signatures in listing.items():
        entry = entries.get(folder)
        kept = _still_valid(entry, folder, signatures) if entry else None
        if kept is not None:
            result[folder] = kept
        if kept is None or kept is not entry:  # kept is the entry itself when no file changed
            to_read[folder] = [name for name in signatures if kept is None or name not in kept.files]
    to_read = {folder: names for folder, names in to_read.items() if names}
    scans = dict(zip(to_read, _scan(to_read, make_row, workers)))
    report = ScanReport(read=sum(len(names) for names in to_read.values()))
    again = {f: list(listing[f]) for f, scan in scans.items() if f in result and _joins_a_series(scan, result[f])}
    scans.update(zip(again, _scan(again, make_row, workers)))
    for folder, names in again.items():
        del result[folder]
        to_read[folder] = names
        report.read += len(names)
    for folder, (rows, problems) in scans.items():
        old = result.get(folder, FolderEntry({}, [], []))
        fresh = {name: listing[folder][name] for name in to_read[folder]}
        result[folder] = FolderEntry({**old.files, **fresh}, old.rows + rows, old.problems + problems)
    report.reused = sum(len(files) for files in listing.values()) - sum(len(names) for names in to_read.values())
    if any(result.get(folder) is not entries.get(folder) for folder in result.keys() | entries.keys()):
        # some folder changed (an unchanged one is its own entry)
        save_index(index_file, {f: (e.files, e.rows, e.problems) for f, e in result.items()}, started)
    rows = [row for entry in result.values() for row in entry.rows]
    problems = [problem for entry in result.values() for problem in entry.problems]
    return rows, problems, report


def _scan(to_read: dict[str, list[str]], make_row: RowMaker, workers: int | None) -> list[FolderScan]:
    groups = [[Path(folder, name) for name in sorted(names)] for folder, names in to_read.items()]
    return scan_folders(groups, make_row, workers)


def _still_valid(entry: FolderEntry, folder: str, signatures: dict[str, Signature]) -> FolderEntry | None:
    """The part of a folder's entry that still holds (rows and problems of unchanged files), or None when the
    whole folder must be read again."""
    if entry.files == signatures:  # an untrusted file's stored signature never matches: its time is -1
        return entry
    if entry.makes_volume(folder):
        return None
    unchanged = {name for name, sig in entry.files.items() if sig[1] >= 0 and signatures.get(name) == sig}
    rows = [r for r in entry.rows if os.path.basename(r["image"]) in unchanged]
    problems = [p for p in entry.problems if os.path.basename(p.path) in unchanged]
    return FolderEntry({name: entry.files[name] for name in unchanged}, rows, problems)


def _joins_a_series(scan: FolderScan, kept: FolderEntry) -> bool:
    """True when a newly read file belongs to a DICOM series that files kept from the index also belong to."""
    series = {r["series"] for r in kept.rows if r.get("series")}
    return any(r.get("series") in series for r in scan[0])
