"""Listing the files a scan looks at, and the folders it reports (empty, or a symbolic link that loops back).

Symbolic links to files and folders are followed (an archive is often arranged into classes by links, not
copies); a link to a folder that already encloses it would loop forever, so it is not followed but reported.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from medtl.data.case_table import Problem


def walk(root: Path) -> Iterator[tuple[str, list[str], list[str], list[Problem]]]:
    """`os.walk` of `root` following links, hidden names (".DS_Store", ".git", ...) skipped; with each folder,
    a problem for each of its links that points back to the folder or one enclosing it (not followed).

    Example:
        >>> [folder for folder, *_ in walk(Path("dataset"))]  # doctest: +SKIP
        ['dataset', 'dataset/normal']
    """
    # the real folders above each folder walked, itself included; a folder's real path is its parent's plus its
    # name unless it is a link, so only links need resolving
    chains = {str(root): (os.path.realpath(root), {os.path.realpath(root)})}
    for folder, dirs, files in os.walk(root, followlinks=True):
        (real, chain), cycles = chains.pop(folder, ("", set())), []
        for name in [d for d in dirs if not d.startswith(".")]:
            path = os.path.join(folder, name)
            target = os.path.realpath(path) if os.path.islink(path) or not real else os.path.join(real, name)
            if target in chain:
                cycles.append(Problem(path, f"symbolic link cycle: points back to {target}"))
            else:
                chains[path] = (target, chain | {target})
        dirs[:] = sorted(d for d in dirs if os.path.join(folder, d) in chains)
        yield folder, dirs, [f for f in files if not f.startswith(".")], cycles


def survey(root: Path) -> tuple[list[Path], list[Problem]]:
    """Every file under `root` (through links, sorted, hidden names skipped) and the folder problems (empty
    folders, links that loop back), from one walk.

    Example:
        >>> files, problems = survey(Path("dataset"))  # doctest: +SKIP
        >>> files[0], problems  # doctest: +SKIP
        (PosixPath('dataset/normal/p1/a.png'), [Problem(path='dataset/normal/p7', reason='empty folder')])
    """
    files: list[str] = []
    problems: list[Problem] = []
    for folder, dirs, names, cycles in walk(root):
        files += [os.path.join(folder, name) for name in names]
        problems += cycles
        if not dirs and not names and not cycles and Path(folder) != Path(root):
            problems.append(Problem(folder, "empty folder"))
    return [Path(f) for f in sorted(files)], sorted(problems, key=lambda p: p.path)


def list_files(root: Path) -> list[Path]:
    """Every file under `root` (through links), sorted, skipping hidden names.

    Example:
        >>> list_files(Path("dataset"))  # doctest: +SKIP
        [PosixPath('dataset/normal/p1/a.png'), PosixPath('dataset/pneumonia/b.dcm')]
    """
    return survey(root)[0]
