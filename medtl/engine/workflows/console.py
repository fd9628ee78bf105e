"""Progress lines a run prints while it works."""
from __future__ import annotations


def say(enabled: bool, text: str) -> None:
    """Print a progress line when `enabled`.

    Example:
        >>> say(True, "fold 1: done")
        fold 1: done
    """
    if enabled:
        print(text, flush=True)
