"""The pieces a run assembles from its config: the model (from the registry) and the MONAI pipelines that
match the model's `BackboneSpec`."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import partial
from typing import Any

from monai import transforms as T
from torch import nn

from medtl.config import ExperimentConfig
from medtl.engine.pipeline import transforms as mt
from medtl.engine.pipeline.datasets import CaseCache, cache_mode, pipeline_key
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.explain.geometry import InputGrid
from medtl.io import ReadError
from medtl.models import create_model, get_spec, medtl_home
from medtl.models.checkpoints.sources import spec_for_weights


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
    task = "segmentation" if cfg["task"] == "segmentation" else "classification"  # multilabel: one logit each
    head = cfg["model.head"] if task == "classification" else "pool"
    depth = cfg["seg.encoder_depth"] if task == "segmentation" or head == "lesion_map" else None
    build = partial(create_model, cfg["model.backbone"], task=task, in_chans=1, num_classes=num_classes,
                    allow_mismatch=cfg["model.allow_mismatch"], input_size=input_size(cfg), stem=cfg["model.stem"],
                    pool=cfg["model.pool"], encoder_depth=depth, head=head)
    fallback = cfg["model.weights_fallback"]
    try:
        return build(weights=chosen)
    except FileNotFoundError as err:
        if weights is not None or fallback is None or not str(chosen).startswith("medtl:"):
            raise
        warnings.warn(f"{err} Training from model.weights_fallback={fallback} instead.", stacklevel=2)
        return build(weights=fallback)


def input_size(cfg: ExperimentConfig) -> tuple[int, ...]:
    """The model's input size: `transforms.input_size`, else the size the configured weights expect.

    Example:
        >>> input_size(ExperimentConfig.from_dict({"transforms": {"input_size": [64, 64]}}))
        (64, 64)
    """
    spec = spec_for_weights(get_spec(cfg["model.backbone"]), cfg["model.weights"])
    return tuple(cfg["transforms.input_size"] or spec.input_size)


def input_grid(cfg: ExperimentConfig) -> InputGrid:
    """How the configured pipeline makes a model input from an image (to map saliency back onto the image).

    Example:
        >>> input_grid(ExperimentConfig.from_dict({"transforms": {"input_size": [64, 64]}})).fit
        'resize'
    """
    return InputGrid(input_size(cfg), cfg["transforms.spacing"], cfg["transforms.fit"])


@dataclass
class Pipelines:
    """The three transform stages of a run (see `medtl.engine.pipeline.transforms`)."""

    preprocess: T.Compose
    train: T.Compose
    eval: T.Compose
    input_size: tuple[int, ...]
    key: str
    grid: InputGrid

    @classmethod
    def from_config(cls, cfg: ExperimentConfig, with_mask: bool = False) -> "Pipelines":
        """Pipelines for the configured backbone: input size from `transforms.input_size` or the spec,
        normalisation from the spec's pretraining mean/std (as the configured weights expect it, see
        `medtl.models.checkpoints.sources.spec_for_weights`).

        Example:
            >>> Pipelines.from_config(ExperimentConfig.from_dict({})).input_size  # doctest: +SKIP
            (224, 224)
        """
        spec = spec_for_weights(get_spec(cfg["model.backbone"]), cfg["model.weights"])
        size = input_size(cfg)
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
            preprocess=mt.preprocess(size, cfg["transforms.intensity"], with_mask, cfg["transforms.spacing"],
                                     cfg["transforms.fit"]),
            train=T.Compose([mt.augment(spec.spatial_dims, with_mask), finish]) if augmented else finish,
            eval=finish,
            input_size=size,
            key=pipeline_key(input_size=size, intensity=cfg["transforms.intensity"], with_mask=with_mask,
                             spacing=cfg["transforms.spacing"], fit=cfg["transforms.fit"]),
            grid=input_grid(cfg),
        )


def case_cache(cfg: ExperimentConfig, items: list[dict[str, Any]], pipes: Pipelines, progress: bool = True) -> CaseCache:
    """The preprocessed cases, kept as `data.cache` says (see `cache_mode`): in memory, or on disk under
    `$MEDTL_HOME/cache/preprocessed/<pipeline key>` where later runs with the same pipeline reuse them.

    Example:
        >>> cache = case_cache(cfg, items, Pipelines.from_config(cfg))  # doctest: +SKIP
    """
    mode = cache_mode(cfg["data.cache"], items, pipes.input_size, cfg["data.cache_memory_gb"])
    folder = medtl_home() / "cache" / "preprocessed" / pipes.key if mode == "disk" else None
    workers = TrainSettings.from_config(cfg).loader_workers
    try:
        return CaseCache(items, pipes.preprocess, cache_dir=folder, num_workers=workers, progress=progress)
    except RuntimeError as err:  # MONAI wraps a transform's error; a case that cannot be read stops the run here
        cause = read_error_in(err)
        if cause is None:
            raise
        raise ValueError(f"{cause}; the run stops before training: remove or fix this file and run again") from None


def read_error_in(err: BaseException) -> ReadError | None:
    """The `ReadError` that caused `err` (through the causes MONAI's transforms chain), or None.

    Example:
        >>> read_error_in(RuntimeError("applying transform")) is None
        True
    """
    while err is not None and not isinstance(err, ReadError):
        err = err.__cause__ or err.__context__
    return err

