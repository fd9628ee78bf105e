"""Trained medtl models as files other tools run: ONNX, TorchScript, or a MONAI bundle, with a sidecar
`model.json` that says what the model expects and returns.

Example:
    >>> from medtl.export import export_model
    >>> export_model("runs/demo", "onnx").name  # doctest: +SKIP
    'model.onnx'
"""
from medtl.export.ensemble import FoldEnsemble
from medtl.export.write import EXPORT_FORMATS, export_model

__all__ = ["EXPORT_FORMATS", "FoldEnsemble", "export_model"]
