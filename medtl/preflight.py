"""Checks a run makes before it reads an image, builds a model or writes a file: the backbone exists, its weights
are on this machine, and the data folder is there. A run that fails here leaves nothing behind, so the same
command works once the missing piece is in place.
"""
from __future__ import annotations

from pathlib import Path

from medtl.config import ExperimentConfig
from medtl.errors import ConfigError


def check_ready(cfg: ExperimentConfig, needs_data: bool = True) -> None:
    """Raise a `ConfigError` (or `MissingWeightsError`, which says which file to put where) when `cfg` cannot
    run here: unknown `model.backbone`, `model.weights` not found or not for this backbone, or (with
    `needs_data`) no `data.root` folder.

    Example:
        >>> check_ready(ExperimentConfig.from_dict({"model": {"weights": "file:/nowhere/w.pth"}}), needs_data=False)
        Traceback (most recent call last):
        ...
        medtl.errors.MissingWeightsError: model.weights: /nowhere/w.pth: no such checkpoint file
    """
    from medtl.models import get_spec
    from medtl.models.checkpoints.sources import locate_weights

    weights, fallback = cfg["model.weights"], cfg["model.weights_fallback"]
    try:
        spec = get_spec(cfg["model.backbone"])
        try:
            locate_weights(spec, weights)
        except FileNotFoundError:
            if fallback is None or not str(weights).startswith("medtl:"):
                raise
            locate_weights(spec, fallback)  # the run trains from the fallback, with a warning
    except FileNotFoundError as err:
        raise type(err)(f"model.weights: {err}") from None
    except ValueError as err:
        raise ConfigError(f"{cfg.source}: model.{err}" if str(err).startswith("backbone")
                          else f"{cfg.source}: model.weights: {err}") from None
    if needs_data:
        root = cfg["data.root"]
        if root is None:
            raise ConfigError(f"{cfg.source}: data.root is not set; pass --set data.root=FOLDER")
        if not Path(root).is_dir():
            raise ConfigError(f"{cfg.source}: data.root {root!r} is not a folder")
