"""Choosing a short, unique, file-name-safe `case_id` for every case of a scan."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path


def image_stem(path: str | Path, folder: bool | None = None) -> str:
    """The name of an image without its extension ("a.nii.gz" -> "a"); a series folder keeps its whole name.
    `folder` says whether `path` is a folder; None asks the file system.

    Example:
        >>> image_stem("data/lung_001.nii.gz"), image_stem("data/p1/scan.dcm"), image_stem("d/ct.v2", folder=True)
        ('lung_001', 'scan', 'ct.v2')
    """
    text = os.fspath(path)
    return _stem(os.path.basename(os.path.normpath(text)), os.path.isdir(text) if folder is None else folder)


def id_candidates(image: str, root: str, series_uid: str | None, folder: bool) -> list[str]:
    """Ever longer ids for one case: its stem, then its path below `root` (label/patient/stem) joined by "_",
    then, for a series `folder`, that path plus the series uid (for several series in one folder). `image` and
    `root` are absolute and normalised, as `case_row` and `Path.absolute` give them.

    Example:
        >>> id_candidates("/d/normal/p1/a.png", "/d", None, False)
        ['a', 'normal_p1_a']
    """
    # str methods, not pathlib or os.path: this runs once per case of every scan
    parent, _, name = image.rpartition(os.sep)
    base = root.rstrip(os.sep)
    if parent.startswith(base + os.sep):
        parents = parent[len(base) + 1:].split(os.sep)
    else:  # a manifest may point outside its folder: use the nearest two folder names
        parents = [] if parent == base else list(Path(parent).parts[-2:])
    stem = _stem(name, folder)
    candidates = [stem, "_".join([*parents, stem])]
    if folder and series_uid:
        candidates.append(f"{candidates[-1]}_{series_uid}")
    return candidates


def _stem(name: str, folder: bool) -> str:
    if folder:
        return name
    name = name[: -len(".gz")] if name.endswith(".gz") else name
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def unique_case_ids(candidates: list[list[str]]) -> list[str]:
    """For each case the shortest candidate no other case shares; clashes left at the end get "_2", "_3", ...

    Written by hand: no library picks readable unique ids from path parts.

    Example:
        >>> unique_case_ids([["a", "normal_a"], ["a", "pneumonia_a"], ["b", "normal_b"]])
        ['normal_a', 'pneumonia_a', 'b']
    """
    level = [0] * len(candidates)
    while True:
        ids = [options[k] for options, k in zip(candidates, level)]
        counts = Counter(ids)
        clashing = [i for i, v in enumerate(ids) if counts[v] > 1 and level[i] < len(candidates[i]) - 1]
        if not clashing:
            break
        for i in clashing:
            level[i] += 1
    taken = set(ids)
    seen: set[str] = set()
    unique = []
    for case_id in ids:
        if case_id in seen:
            n = 2
            while f"{case_id}_{n}" in taken:
                n += 1
            case_id = f"{case_id}_{n}"
            taken.add(case_id)
        seen.add(case_id)
        unique.append(case_id)
    return unique
