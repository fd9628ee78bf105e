"""Finding cases whose image bytes are identical, by sha1 of the file bytes."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from medtl.data.case_table import Problem

_CHUNK = 1 << 20


def file_sha1(path: str | Path) -> str:
    """Hex sha1 of a file's bytes.

    Example:
        >>> file_sha1("scan.dcm")  # doctest: +SKIP
        '3f786850e387550fdab836ed7e6dc881de23001b'
    """
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def drop_duplicates(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Keep the first row of each `image_hash`; every later one becomes a "duplicate of <path>" problem.

    Rows without a hash are kept as they are.

    Example:
        >>> kept, dups = drop_duplicates([{"image": "a.png", "image_hash": "h"}, {"image": "b.png", "image_hash": "h"}])
        >>> [r["image"] for r in kept], dups
        (['a.png'], [Problem(path='b.png', reason='duplicate of a.png')])
    """
    first_with: dict[str, str] = {}
    kept, problems = [], []
    for row in rows:
        digest = row.get("image_hash")
        if digest and digest in first_with:
            problems.append(Problem(row["image"], f"duplicate of {first_with[digest]}"))
            continue
        if digest:
            first_with[digest] = row["image"]
        kept.append(row)
    return kept, problems
