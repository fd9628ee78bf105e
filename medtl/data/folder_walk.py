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
    chains = {str(root): {os.path.realpath(root)}}  # the real folders above each folder walked, itself included
    for folder, dirs, files in os.walk(root, followlinks=True):
        chain, cycles = chains.pop(folder, set()), []
        for name in [d for d in dirs if not d.startswith(".")]:
            target = os.path.realpath(os.path.join(folder, name))
            if target in chain:
                cycles.append(Problem(os.path.join(folder, name), f"symbolic link cycle: points back to {target}"))
            else:
                chains[os.path.join(folder, name)] = chain | {target}
        dirs[:] = sorted(d for d in dirs if os.path.join(folder, d) in chains)
        yield folder, dirs, [f for f in files if not f.startswith(".")], cycles


def list_files(root: Path) -> list[Path]:
    """Every file under `root` (through links), sorted, skipping hidden names.

    Example:
        >>> list_files(Path("dataset"))  # doctest: +SKIP
        [PosixPath('dataset/normal/p1/a.png'), PosixPath('dataset/pneumonia/b.dcm')]
    """
    return sorted(Path(folder) / f for folder, _, files, _ in walk(root) for f in files)


def folder_problems(root: Path) -> list[Problem]:
    """An "empty folder" problem for each folder under `root` that holds nothing at all, and a "symbolic link
    cycle" problem for each link that loops back.

    Example:
        >>> folder_problems(Path("dataset"))  # doctest: +SKIP
        [Problem(path='dataset/normal/p7', reason='empty folder')]
    """
    problems = []
    for folder, dirs, files, cycles in walk(root):
        problems += cycles
        if not dirs and not files and not cycles and Path(folder) != Path(root):
            problems.append(Problem(folder, "empty folder"))
    return sorted(problems, key=lambda p: p.path)
