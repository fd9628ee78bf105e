"""`export_model`: a trained classifier (a `medtl train` run, a `medtl cv` run's fold ensemble or a model file)
written as ONNX, TorchScript or a MONAI bundle, with `model.json` beside it."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from medtl.engine.setup import Pipelines
from medtl.engine.trained_model import load_trained_model
from medtl.export.bundle import write_bundle
from medtl.export.ensemble import FoldEnsemble
from medtl.export.sidecar import model_info

EXPORT_FORMATS = ("onnx", "torchscript", "bundle")
_FILES = {"onnx": "model.onnx", "torchscript": "model.ts", "bundle": "models/model.ts"}
ONNX_OPSET = 17


def export_model(model_or_run: str | Path, fmt: str, out: str | Path | None = None, overwrite: bool = False) -> Path:
    """Export the model at `model_or_run` as `fmt` ("onnx", "torchscript" or "bundle") into `out` (default
    `<run>/export-<fmt>`) and return the model file. The graph takes the preprocessed image (batch, 1, *input
    size) and returns class probabilities (softmax, averaged over a cv run's fold models, as `medtl predict`
    averages them); `model.json` lists classes, threshold, input size, intensity steps, backbone and weights.

    Example:
        >>> export_model("runs/demo", "onnx")  # doctest: +SKIP
        PosixPath('runs/demo/export-onnx/model.onnx')
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {list(EXPORT_FORMATS)}. Got {fmt!r} instead.")
    trained = load_trained_model(model_or_run)
    folder = Path(out) if out is not None else trained.folder / f"export-{fmt}"
    target = folder / _FILES[fmt]
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: already exists; pass overwrite=True (--overwrite) to replace it")
    pipes = Pipelines.from_config(trained.cfg)
    ensemble = FoldEnsemble(trained.load()).eval()
    example = torch.randn(2, 1, *pipes.input_size, generator=torch.Generator().manual_seed(0))
    target.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        if fmt == "onnx":
            torch.onnx.export(ensemble, (example,), str(target), input_names=["image"], output_names=["probabilities"],
                              dynamic_axes={"image": {0: "batch"}, "probabilities": {0: "batch"}},
                              opset_version=ONNX_OPSET, dynamo=False)
        else:
            torch.jit.save(torch.jit.trace(ensemble, example), str(target))
    info = model_info(trained, pipes, fmt, _FILES[fmt])
    (folder / "model.json").write_text(json.dumps(info, indent=2))
    if fmt == "bundle":
        write_bundle(folder, info)
    return target
