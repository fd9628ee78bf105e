"""Where medtl keeps its own files: `MEDTL_HOME` (default `~/.cache/medtl`)."""
from __future__ import annotations

import os
from pathlib import Path


def medtl_home() -> Path:
    """The medtl cache folder, read from `MEDTL_HOME` at each call so tests and users can redirect it.

    Example:
        >>> import os; os.environ["MEDTL_HOME"] = "/tmp/medtl-home"; str(medtl_home())
        '/tmp/medtl-home'
    """
    return Path(os.environ.get("MEDTL_HOME") or Path.home() / ".cache" / "medtl").expanduser()
