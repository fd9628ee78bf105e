"""medtl: transfer learning for medical images.

One function per `medtl` verb, named `run_<verb>` (`medtl cv` is `medtl.run_cv`, `medtl lr-find` is
`medtl.run_lr_find`), plus the central types. Everything is loaded on first use, so `import medtl` stays fast
(torch and MONAI load only when needed).

Example:
    >>> import medtl
    >>> sorted(name for name in medtl.__all__ if name.startswith("run_"))[:3]
    ['run_compare', 'run_cv', 'run_demo']
    >>> medtl.run_cv.__module__
    'medtl.api'
"""
from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("medtl")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "unknown"

# Public name -> (module, name there).
_API = {
    # one function per verb
    "run_synth": ("medtl.api", "run_synth"),
    "run_scan": ("medtl.api", "run_scan"),
    "run_cv": ("medtl.api", "run_cv"),
    "run_train": ("medtl.api", "run_train"),
    "run_lr_find": ("medtl.api", "run_lr_find"),
    "run_pretrain": ("medtl.api", "run_pretrain"),
    "run_predict": ("medtl.engine.workflows.predict_run", "predict"),
    "run_explain": ("medtl.engine.workflows.explain_run", "explain_run"),
    "run_report": ("medtl.report", "write_report"),
    "run_compare": ("medtl.evaluate.compare", "compare_runs"),
    "run_demo": ("medtl.demo", "run_demo"),
    "run_weights_list": ("medtl.cli.inputs.weights", "weight_rows"),
    "run_sweep": ("medtl.engine.workflows.sweep", "run_sweep"),
    "run_export": ("medtl.export", "export_model"),
    # central types and building blocks
    "CaseTable": ("medtl.data.case_table", "CaseTable"),
    "ExperimentConfig": ("medtl.config", "ExperimentConfig"),
    "Classifier": ("medtl.engine.workflows.classifier", "Classifier"),
    "read_image": ("medtl.io", "read_image"),
    "list_backbones": ("medtl.models", "list_backbones"),
    "create_model": ("medtl.models", "create_model"),
    "get_spec": ("medtl.models", "get_spec"),
    "saliency": ("medtl.explain", "saliency"),
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'medtl' has no attribute {name!r}")
    module, attribute = _API[name]
    return getattr(importlib.import_module(module), attribute)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
