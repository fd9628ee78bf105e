"""Choosing a short, unique, file-name-safe `case_id` for every case of a scan."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path


def image_stem(path: str | Path) -> str:
    """The name of an image without its extension ("a.nii.gz" -> "a"); a series folder keeps its whole name.

    Example:
        >>> image_stem("data/lung_001.nii.gz"), image_stem("data/p1/scan.dcm")
        ('lung_001', 'scan')
    """
    # os.path and str methods give pathlib's name and stem at a fraction of its cost (it runs once per case)
    text = os.fspath(path)
    name = os.path.basename(os.path.normpath(text))
    if os.path.isdir(text):
        return name
    name = name[: -len(".gz")] if name.endswith(".gz") else name
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def id_candidates(image: str | Path, root: Path, series_uid: str | None) -> list[str]:
    """Ever longer ids for one case: its stem, then its path below `root` (label/patient/stem) joined by "_",
    then that path plus the series uid (for several series in one folder).

    Example:
        >>> id_candidates("/d/normal/p1/a.png", Path("/d"), None)
        ['a', 'normal_p1_a']
    """
    parent, base = os.path.dirname(os.fspath(image)).rstrip(os.sep), os.fspath(root).rstrip(os.sep)
    if parent == base or not parent.startswith(base + os.sep):
        # a manifest may point outside its folder: use the nearest two folder names
        parents = () if parent == base else Path(parent).parts[-2:]
    else:
        parents = tuple(parent[len(base) + 1:].split(os.sep))
    stem = image_stem(image)
    candidates = [stem, "_".join([*parents, stem])]
    if series_uid:
        candidates.append(f"{candidates[-1]}_{series_uid}")
    return candidates


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
