"""Warnings raised while a file is read (pydicom's invalid values, nibabel's logged header repairs, medtl's
own), kept with the file they came from instead of printed as they happen."""
from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from medtl.io.image import WARNING, Problem

# A reason's own prefix that names where it was found, not what is wrong ("series 1.2.3: ...", "cases.csv line 4: ").
NIBABEL_LOGGER = "nibabel.global"  # where nibabel reports the header fields it fixes
_WHERE = re.compile(r"^(series \S+|\S+ line \d+|\S+ training entry \d+): ")


class MedtlWarning(UserWarning):
    """A reader's note about a file it still read (e.g. an invalid VOI window replaced by the full range)."""


@contextmanager
def captured_warnings(path: str | Path) -> Iterator[list[Problem]]:
    """Collect the warnings raised inside the block as warnings (`Problem`s of severity "warning") of `path`,
    each distinct message once,
    instead of letting Python print them.

    Example:
        >>> with captured_warnings("a.dcm") as caught:
        ...     warnings.warn("Invalid value for VR DA: '2024-13-45'")
        >>> caught[0].reason
        "Invalid value for VR DA: '2024-13-45'"
    """
    found: list[Problem] = []
    logged = _LogRecorder()
    logger = logging.getLogger(NIBABEL_LOGGER)
    saved = logger.handlers, logger.propagate
    logger.handlers, logger.propagate = [logged], False
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            yield found
        finally:
            logger.handlers, logger.propagate = saved
            texts = [str(r.message) for r in records] + logged.messages
            messages = dict.fromkeys(" ".join(text.split()) for text in texts)
            found.extend(Problem(str(path), message, WARNING) for message in messages)


class _LogRecorder(logging.Handler):
    """Keeps the messages nibabel logs about a header it repairs (it prints them otherwise)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def message_kind(message: str) -> str:
    """What a problem or warning message is about, without the file's own values: the text before the first
    colon or parenthesis, numbers replaced by N (but "3D" kept). Used to count problems and warnings by kind.

    Example:
        >>> message_kind("Invalid value for VR UI: '1.2.3x'")
        'Invalid value for VR UI'
        >>> message_kind("series 1.2.840: 3 frames without per-frame positions: neither an image nor a volume")
        'N frames without per-frame positions'
    """
    text = _WHERE.sub("", message.strip())
    text = re.split(r":| \(|; | of /", text, maxsplit=1)[0]
    return re.sub(r"\d+(?!D\b)", "N", text).strip()[:70] or "unknown"
