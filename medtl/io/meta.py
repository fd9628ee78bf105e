"""The `meta` dictionary every reader attaches to `ImageData`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

IDENTITY_KEYS = ("modality", "patient_id", "study_uid", "series_uid")


def image_meta(source: str | Path, fmt: str, identity: dict[str, Any] | None = None) -> dict[str, Any]:
    """source, format and the identity keys (None where the format carries none).

    Example:
        >>> image_meta("a.png", "png")["patient_id"] is None
        True
    """
    identity = identity or {}
    return {"source": str(source), "format": fmt, **{key: identity.get(key) for key in IDENTITY_KEYS}}
