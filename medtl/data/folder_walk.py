"""Listing the files a scan looks at, with their sizes and modification times, and the folders it reports (empty,
or a symbolic link that loops back).

Symbolic links to files and folders are followed (an archive is often arranged into classes by links, not
copies); a link to a folder that already encloses it would loop forever, so it is not followed but reported.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from medtl.data.case_table import Problem

Signature = tuple[int, int]  # (size in bytes, modification time in ns); (-1, -1) for a file that cannot be stat-ed
Listing = dict[str, dict[str, Signature]]  # folder -> {file name: signature}, in the folder's own order


def walk(root: Path) -> Iterator[tuple[str, list[str], dict[str, Signature], list[Problem]]]:
    """Each folder below `root` (itself first, then depth first by sorted names, through links, hidden names
    such as ".DS_Store" or ".git" skipped): its path, its sub-folders' names (sorted), its files' signatures
    (what `os.stat` gives through links, from one `os.scandir`; in the folder's own order), and a problem for
    each of its links that points back to the folder or one enclosing it (not followed). A folder that cannot be
    listed yields nothing, as in `os.walk`.

    Example:
        >>> [folder for folder, *_ in walk(Path("dataset"))]  # doctest: +SKIP
        ['dataset', 'dataset/normal']
    """
    # the real folders above each folder walked, itself included; a folder's real path is its parent's plus its
    # name unless it is a link, so only links need resolving
    top = os.path.realpath(root)
    pending = [(str(root), top, frozenset({top}))]
    while pending:
        folder, real, chain = pending.pop()
        try:
            dirs, files, cycles = _list(folder, real, chain)
        except OSError:
            continue
        yield folder, [name for name, _ in dirs], files, cycles
        pending += [(os.path.join(folder, name), target, chain | {target}) for name, target in reversed(dirs)]


def _list(folder: str, real: str, chain: frozenset[str]) -> tuple[list[tuple[str, str]], dict[str, Signature],
                                                                   list[Problem]]:
    dirs, files, cycles = [], {}, []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()  # through a link: one stat, else the type the listing gave
            except OSError:
                is_dir = False
            if not is_dir:
                try:
                    stat = entry.stat()
                    files[entry.name] = (stat.st_size, stat.st_mtime_ns)
                except OSError:  # a broken link: read as any file, it becomes a problem
                    files[entry.name] = (-1, -1)
                continue
            target = os.path.realpath(entry.path) if entry.is_symlink() else os.path.join(real, entry.name)
            if target in chain:
                cycles.append(Problem(entry.path, f"symbolic link cycle: points back to {target}"))
            else:
                dirs.append((entry.name, target))
    return sorted(dirs), files, cycles


def survey(root: Path) -> tuple[Listing, list[Problem]]:
    """Every file under `root` (through links, hidden names skipped) by folder, with its signature, and the
    folder problems (empty folders, links that loop back), from one walk.

    Example:
        >>> listing, problems = survey(Path("dataset"))  # doctest: +SKIP
        >>> listing["dataset/normal/p1"], problems  # doctest: +SKIP
        ({'a.png': (3120, 1764601200000000000)}, [Problem(path='dataset/normal/p7', reason='empty folder')])
    """
    listing: Listing = {}
    problems: list[Problem] = []
    for folder, dirs, files, cycles in walk(root):
        if files:
            listing[folder] = files
        problems += cycles
        if not dirs and not files and not cycles and folder != str(root):
            problems.append(Problem(folder, "empty folder"))
    return listing, sorted(problems, key=lambda p: p.path)


def list_files(root: Path) -> list[Path]:
    """Every file under `root` (through links), sorted, skipping hidden names.

    Example:
        >>> list_files(Path("dataset"))  # doctest: +SKIP
        [PosixPath('dataset/normal/p1/a.png'), PosixPath('dataset/pneumonia/b.dcm')]
    """
    return sorted(Path(folder, name) for folder, files in survey(root)[0].items() for name in files)
