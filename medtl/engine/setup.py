"""The pieces a run assembles from its config: the model (from the registry) and the MONAI pipelines that
match the model's `BackboneSpec`."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from monai import transforms as T
import torch
from safetensors.torch import load_file
from torch import nn

from medtl.config import ExperimentConfig
from medtl.engine import transforms as mt
from medtl.engine.datasets import CACHE_MODES, CaseCache, pipeline_key
from medtl.engine.run_folder import RunFolder
from medtl.engine.settings import TrainSettings
from medtl.models import create_model, get_spec, medtl_home


def build_model(cfg: ExperimentConfig, num_classes: int, weights: str | None = None) -> nn.Module:
    """The configured backbone with a fresh head for `num_classes`, 1 input channel, weights as configured
    (or `weights` when given, e.g. "none" to rebuild a saved fold model). Configured `medtl:NAME` weights that
    are not in the cache are replaced by `model.weights_fallback`, when set, with a warning that says so.

    Example:
        >>> m = build_model(ExperimentConfig.from_dict({}), num_classes=2)  # doctest: +SKIP
        >>> m.spec.name                                                    # doctest: +SKIP
        'resnet18'
    """
    chosen = cfg["model.weights"] if weights is None else weights
    build = partial(create_model, cfg["model.backbone"], task=cfg["task"], in_chans=1, num_classes=num_classes,
                    allow_mismatch=cfg["model.allow_mismatch"])
    fallback = cfg["model.weights_fallback"]
    try:
        return build(weights=chosen)
    except FileNotFoundError as err:
        if weights is not None or fallback is None or not str(chosen).startswith("medtl:"):
            raise
        warnings.warn(f"{err} Training from model.weights_fallback={fallback} instead.", stacklevel=2)
        return build(weights=fallback)


@dataclass
class Pipelines:
    """The three transform stages of a run (see `medtl.engine.transforms`)."""

    preprocess: T.Compose
    train: T.Compose
    eval: T.Compose
    input_size: tuple[int, ...]
    key: str

    @classmethod
    def from_config(cls, cfg: ExperimentConfig, with_mask: bool = False) -> "Pipelines":
        """Pipelines for the configured backbone: input size from `transforms.input_size` or the spec,
        normalisation from the spec's pretraining mean/std.

        Example:
            >>> Pipelines.from_config(ExperimentConfig.from_dict({})).input_size  # doctest: +SKIP
            (224, 224)
        """
        spec = get_spec(cfg["model.backbone"])
        size = tuple(cfg["transforms.input_size"] or spec.input_size)
        if len(size) != spec.spatial_dims:
            raise ValueError(
                f"transforms.input_size {list(size)} has {len(size)} axes but {spec.name} is a "
                f"{spec.spatial_dims}D backbone"
            )
        (mean,), (std,) = spec.normalization(in_chans=1)  # medtl's models take one channel
        finish = mt.finish(mean, std, with_mask)
        # A linear probe computes features once, so per-epoch augmentation would be one fixed random draw; its
        # training cases then go through the very pipeline object evaluation uses, so their features are shared.
        augmented = cfg["transforms.augment"] and cfg["train.strategy"] != "linear_probe"
        return cls(
            preprocess=mt.preprocess(size, cfg["transforms.intensity"], with_mask, cfg["transforms.spacing"]),
            train=T.Compose([mt.augment(spec.spatial_dims, with_mask), finish]) if augmented else finish,
            eval=finish,
            input_size=size,
            key=pipeline_key(input_size=size, intensity=cfg["transforms.intensity"], with_mask=with_mask,
                             spacing=cfg["transforms.spacing"]),
        )


def case_cache(cfg: ExperimentConfig, items: list[dict[str, Any]], pipes: Pipelines, progress: bool = True) -> CaseCache:
    """The preprocessed cases, kept as `data.cache` says: in memory, or on disk under
    `$MEDTL_HOME/cache/preprocessed/<pipeline key>` where later runs with the same pipeline reuse them.

    Example:
        >>> cache = case_cache(cfg, items, Pipelines.from_config(cfg))  # doctest: +SKIP
    """
    mode = cfg["data.cache"]
    if mode not in CACHE_MODES:
        raise ValueError(f"data.cache must be one of {set(CACHE_MODES)}. Got {mode!r} instead.")
    folder = medtl_home() / "cache" / "preprocessed" / pipes.key if mode == "disk" else None
    workers = TrainSettings.from_config(cfg).loader_workers
    return CaseCache(items, pipes.preprocess, cache_dir=folder, num_workers=workers, progress=progress)


def load_model_file(cfg: ExperimentConfig, path: str | Path, num_classes: int) -> torch.nn.Module:
    """`cfg`'s model with the weights of `path` (model.safetensors), read strictly, in eval mode; a clear error
    when they do not fit the configured backbone.

    Example:
        >>> load_model_file(cfg, "runs/final/model.safetensors", 2)  # doctest: +SKIP
    """
    model = build_model(cfg, num_classes, weights="none")
    try:
        model.load_state_dict(load_file(path))
    except RuntimeError as err:
        raise ValueError(f"{path}: does not fit a {cfg['model.backbone']} with {num_classes} "
                         f"classes ({str(err).splitlines()[0]})") from None
    return model.eval()


def load_fold_model(cfg: ExperimentConfig, run_dir: str | Path, fold: int, num_classes: int) -> torch.nn.Module:
    """The model a fold trained, read back from `fold_<k>/model.safetensors`.

    Example:
        >>> load_fold_model(cfg, "runs/demo", 0, 2)  # doctest: +SKIP
    """
    return load_model_file(cfg, RunFolder(run_dir).fold(fold) / "model.safetensors", num_classes)
