"""medtl's exception types, in one place. Each is a `MedtlError` and also the built-in exception it refines, so
`except ValueError` keeps catching a bad config. The `medtl` command prints any `MedtlError` as one line on
stderr (no traceback) and exits with status 1.

Example:
    >>> from medtl.errors import ConfigError, MedtlError
    >>> issubclass(ConfigError, MedtlError) and issubclass(ConfigError, ValueError)
    True
"""
from __future__ import annotations

from pathlib import Path


class MedtlError(Exception):
    """A known condition that stops a medtl command; its message says what is wrong and how to fix it."""


class ConfigError(MedtlError, ValueError):
    """A configuration that cannot be used; the message names the key (and file) at fault and what it accepts."""


class MissingWeightsError(MedtlError, FileNotFoundError):
    """Pretrained weights that are not on this machine; the message says which file to put where."""


class UnsafeCheckpointError(MedtlError, ValueError):
    """A checkpoint that needs arbitrary pickled Python objects to load, which medtl refuses to run."""


class WeightMismatchError(MedtlError, ValueError):
    """Checkpoint tensors that do not fit the backbone (outside the head and the first conv)."""


class ReadError(MedtlError, ValueError):
    """A file that cannot be read as a medical image; the message names the file and what is wrong.

    Example:
        >>> str(ReadError("scan.dcm", "no pixel data"))
        'scan.dcm: no pixel data'
    """

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class LeakageError(MedtlError, ValueError):
    """A patient, study or identical image held out in more than one fold: the CV estimate would be inflated."""


class NotFittedError(MedtlError, RuntimeError):
    """A model used before `fit`."""


class MissingExtraError(MedtlError, ImportError):
    """An optional package a chosen feature needs is not installed; the message names the pip extra."""


class NonFiniteLossError(MedtlError, FloatingPointError):
    """Training produced a NaN or infinite loss; the message names the epoch and batch and what to change."""
