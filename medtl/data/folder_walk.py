"""Listing the files a scan looks at, and the empty folders it reports."""
from __future__ import annotations

import os
from pathlib import Path

from medtl.data.case_table import Problem


def list_files(root: Path) -> list[Path]:
    """Every regular file under `root`, sorted, skipping hidden names (".DS_Store", ".git", ...).

    Example:
        >>> list_files(Path("dataset"))  # doctest: +SKIP
        [PosixPath('dataset/normal/p1/a.png'), PosixPath('dataset/pneumonia/b.dcm')]
    """
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(folder) / f for f in files if not f.startswith(".")]
    return sorted(found)


def empty_folders(root: Path) -> list[Problem]:
    """An "empty folder" problem for each folder under `root` that holds nothing at all.

    Example:
        >>> empty_folders(Path("dataset"))  # doctest: +SKIP
        [Problem(path='dataset/normal/p7', reason='empty folder')]
    """
    problems = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if not dirs and not files and Path(folder) != Path(root):
            problems.append(Problem(folder, "empty folder"))
    return sorted(problems, key=lambda p: p.path)
