"""Cases unlike the rest of their cohort, found from their headers: a 3D volume among 2D images (or the
reverse) cannot share one model input, so it is left out as a problem; a colour file among grey ones is read as
grey, so it is kept with a warning."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from medtl.io.image import WARNING, Problem


def cohort_outliers(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The rows whose dimensionality is the cohort's (that of more than half of them; all rows when no such
    majority), and a problem for each other row plus a warning for each colour row among grey ones.

    Example:
        >>> rows = [{"image": f"{i}.png", "shape": "96x96", "channels": 1} for i in range(3)]
        >>> kept, notes = cohort_outliers([*rows, {"image": "v.nii", "shape": "16x16x8", "channels": 1}])
        >>> len(kept), notes[0].reason
        (3, 'unlike the cohort: a 3D image (16x16x8) among 2D images (3 of 4 cases)')
    """
    dims = [len(str(row["shape"]).split("x")) for row in rows]
    cohort_dims, count = Counter(dims).most_common(1)[0] if rows else (0, 0)
    if count * 2 <= len(rows):
        cohort_dims = None
    kept, notes = [], []
    for row, n in zip(rows, dims):
        if cohort_dims is not None and n != cohort_dims:
            cohort = f"{cohort_dims}D images ({count} of {len(rows)} cases)"
            series = f" (series {row['series']} of this folder)" if Path(row["image"]).is_dir() else ""
            reason = f"unlike the cohort: a {n}D image ({row['shape']}) among {cohort}{series}"
            notes.append(Problem(row["image"], reason))
        else:
            kept.append(row)
    colour = [row for row in kept if row.get("channels", 1) > 1]
    if colour and len(colour) * 2 < len(kept):
        grey = len(kept) - len(colour)
        reason = f"unlike the cohort: a colour image among {grey} grey ones, read as grey"
        notes += [Problem(row["image"], reason, WARNING) for row in colour]
    return kept, notes
