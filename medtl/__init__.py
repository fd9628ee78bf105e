"""medtl: transfer learning for medical images.

The public API is loaded on first use so that `import medtl` stays fast (torch and MONAI load only when needed).

Example:
    >>> import medtl
    >>> callable(medtl.scan_folder)
    True
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "CaseTable": "medtl.data.case_table",
    "scan_folder": "medtl.data",
    "read_image": "medtl.io",
    "ExperimentConfig": "medtl.config",
    "list_backbones": "medtl.models",
    "create_model": "medtl.models",
    "get_spec": "medtl.models",
    "Classifier": "medtl.engine.classifier",
    "run_cv": "medtl.engine.cv",
    "predict": "medtl.engine.predict_run",
    "saliency": "medtl.explain",
    "make_xray": "medtl.synth",
    "make_mri": "medtl.synth",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'medtl' has no attribute {name!r}")
    return getattr(importlib.import_module(_API[name]), name)
