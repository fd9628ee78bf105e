"""`export_model`: a trained classifier (a `medtl train` run, a `medtl cv` run's fold ensemble or a model file)
written as ONNX, TorchScript or a MONAI bundle, with `model.json` beside it."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from medtl.config_choices import EXPORT_FORMATS
from medtl.engine.training.setup import Pipelines
from medtl.engine.workflows.trained_model import load_trained_model
from medtl.export.bundle import write_bundle
from medtl.export.ensemble import FoldEnsemble
from medtl.export.sidecar import model_info

_FILES = {"onnx": "model.onnx", "torchscript": "model.ts", "bundle": "models/model.ts"}
ONNX_OPSET = 17


def export_model(model_or_run: str | Path, fmt: str, out: str | Path | None = None, overwrite: bool = False) -> Path:
    """Export the model at `model_or_run` as `fmt` ("onnx", "torchscript" or "bundle") into `out` (default
    `<run>/export-<fmt>`) and return the model file. The graph takes the preprocessed image (batch, 1, *input
    size) and returns class probabilities (softmax, averaged over a cv run's fold models, as `medtl predict`
    averages them); the file is checked to reproduce them, for any batch size or, where a network bakes the
    batch size into its graph, for batch 1 (then `model.json` says so). `model.json` lists classes, threshold,
    input size, intensity steps, backbone and weights.

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
    target.parent.mkdir(parents=True, exist_ok=True)
    batch = "batch"
    _write(ensemble, fmt, target, _example(2, pipes.input_size), dynamic=True)
    if not _reproduces(ensemble, fmt, target, _example(3, pipes.input_size)):
        # Some networks bake the traced batch size into the graph (3D ResNets' zero-padding shortcuts): such a
        # model is exported for one image at a time, and model.json says so.
        batch = 1
        _write(ensemble, fmt, target, _example(1, pipes.input_size), dynamic=False)
        if not _reproduces(ensemble, fmt, target, _example(1, pipes.input_size)):
            raise RuntimeError(f"{target}: the exported {fmt} model does not reproduce the model's probabilities")
    info = model_info(trained, pipes, fmt, _FILES[fmt])
    info["input"]["shape"][0] = info["output"]["shape"][0] = batch
    (folder / "model.json").write_text(json.dumps(info, indent=2))
    if fmt == "bundle":
        write_bundle(folder, info)
    return target


def _example(batch: int, size: tuple[int, ...]) -> torch.Tensor:
    return torch.randn(batch, 1, *size, generator=torch.Generator().manual_seed(batch))


def _write(ensemble: FoldEnsemble, fmt: str, target: Path, example: torch.Tensor, dynamic: bool) -> None:
    with torch.no_grad():
        if fmt == "onnx":
            axes = {"image": {0: "batch"}, "probabilities": {0: "batch"}} if dynamic else None
            torch.onnx.export(ensemble, (example,), str(target), input_names=["image"], output_names=["probabilities"],
                              dynamic_axes=axes, opset_version=ONNX_OPSET, dynamo=False)
        else:
            torch.jit.save(torch.jit.trace(ensemble, example), str(target))


def _reproduces(ensemble: FoldEnsemble, fmt: str, target: Path, example: torch.Tensor) -> bool:
    """Whether the written file gives the ensemble's probabilities (within 1e-4) on `example`."""
    with torch.no_grad():
        expected = ensemble(example).numpy()
        try:
            if fmt == "onnx":
                import onnxruntime  # the `export` extra

                session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
                got = session.run(None, {"image": example.numpy()})[0]
            else:
                got = torch.jit.load(str(target))(example).numpy()
        except Exception:  # noqa: BLE001  any failure of the exported graph on this batch means: not reproduced
            return False
    return got.shape == expected.shape and bool(abs(got - expected).max() <= 1e-4)
