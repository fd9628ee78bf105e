"""`model.json` beside an exported model: classes, threshold, input, intensity steps, backbone and weights."""
from __future__ import annotations

from typing import Any

import medtl
from medtl.engine.training.setup import Pipelines
from medtl.engine.workflows.trained_model import TrainedModel
from medtl.models import get_spec
from medtl.models.checkpoints.sources import spec_for_weights

SCHEMA = "medtl.export/1"


def intensity_steps(trained: TrainedModel, pipes: Pipelines) -> list[dict[str, Any]]:
    """The preprocessing the model was trained with, step by step, as MONAI transform names and arguments.

    Example:
        >>> [step["transform"] for step in intensity_steps(trained, pipes)]  # doctest: +SKIP
        ['LoadImage', 'ScaleIntensityRangePercentiles', 'Resize', 'NormalizeIntensity']
    """
    cfg = trained.cfg
    spec = spec_for_weights(get_spec(cfg["model.backbone"]), cfg["model.weights"])
    (mean,), (std,) = spec.normalization(1)
    steps: list[dict[str, Any]] = [{"transform": "LoadImage", "channels": 1,
                                    "note": "one channel; 2D images as displayed, volumes in RAS"}]
    if cfg["transforms.spacing"] is not None and len(pipes.input_size) == 3:
        steps.append({"transform": "Spacing", "pixdim": list(cfg["transforms.spacing"]), "mode": "bilinear"})
    if cfg["transforms.intensity"] == "foreground":  # medtl's ScaleForegroundd, as an expression MONAI evaluates
        steps.append({"transform": "Lambda", "func": "$lambda x: (x - x[x > x.mean()].mean()) / "
                                                     "x[x > x.mean()].std(unbiased=False).clamp_min(1e-6)"})
    elif cfg["transforms.intensity"] == "percentile":
        steps.append({"transform": "ScaleIntensityRangePercentiles", "lower": 0.5, "upper": 99.5, "b_min": 0.0,
                      "b_max": 1.0, "clip": True})
    elif cfg["transforms.intensity"] == "minmax":
        steps.append({"transform": "ScaleIntensity", "minv": 0.0, "maxv": 1.0})
    if cfg["transforms.fit"] == "pad":
        steps.append({"transform": "ResizeWithPadOrCrop", "spatial_size": list(pipes.input_size), "mode": "edge"})
    else:
        steps.append({"transform": "Resize", "spatial_size": list(pipes.input_size), "mode": "area"})
    steps.append({"transform": "NormalizeIntensity", "subtrahend": mean, "divisor": std})
    return steps


def model_info(trained: TrainedModel, pipes: Pipelines, fmt: str, file_name: str) -> dict[str, Any]:
    """The sidecar's content for `trained` exported as `fmt` into `file_name`.

    Example:
        >>> model_info(trained, pipes, "onnx", "model.onnx")["input"]  # doctest: +SKIP
        {'name': 'image', 'shape': ['batch', 1, 64, 64], 'dtype': 'float32'}
    """
    cfg = trained.cfg
    return {
        "schema": SCHEMA, "format": fmt, "file": file_name, "medtl_version": medtl.__version__,
        "classes": trained.classes, "positive": trained.positive, "threshold": trained.threshold,
        "aggregate": trained.aggregate, "backbone": cfg["model.backbone"], "weights_source": cfg["model.weights"],
        "models": len(trained.weights), "model_kind": trained.describe(),
        "input": {"name": "image", "shape": ["batch", 1, *pipes.input_size], "dtype": "float32"},
        "output": {"name": "probabilities", "shape": ["batch", len(trained.classes)],
                   "meaning": "softmax class probabilities, averaged over the models"},
        "intensity_steps": intensity_steps(trained, pipes),
    }
