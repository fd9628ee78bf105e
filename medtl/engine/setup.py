"""The pieces a run assembles from its config: the model (from the registry) and the MONAI pipelines that
match the model's `BackboneSpec`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from monai import transforms as T
from torch import nn

from medtl.config import ExperimentConfig
from medtl.engine import transforms as mt
from medtl.models import create_model, get_spec


def build_model(cfg: ExperimentConfig, num_classes: int, weights: str | None = None) -> nn.Module:
    """The configured backbone with a fresh head for `num_classes`, 1 input channel, weights as configured
    (or `weights` when given, e.g. "none" to rebuild a saved fold model).

    Example:
        >>> m = build_model(ExperimentConfig.from_dict({}), num_classes=2)  # doctest: +SKIP
        >>> m.spec.name                                                    # doctest: +SKIP
        'resnet18'
    """
    return create_model(
        cfg["model.backbone"],
        task=cfg["task"],
        in_chans=1,
        num_classes=num_classes,
        weights=cfg["model.weights"] if weights is None else weights,
        allow_mismatch=cfg["model.allow_mismatch"],
    )


@dataclass
class Pipelines:
    """The three transform stages of a run (see `medtl.engine.transforms`)."""

    preprocess: T.Compose
    train: T.Compose
    eval: T.Compose
    input_size: tuple[int, ...]

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
        mean, std = float(np.mean(spec.mean)), float(np.mean(spec.std))
        finish = mt.finish(mean, std, with_mask)
        augment = mt.augment(spec.spatial_dims, with_mask) if cfg["transforms.augment"] else T.Compose([])
        return cls(
            preprocess=mt.preprocess(size, cfg["transforms.intensity"], with_mask),
            train=T.Compose([augment, finish]),
            eval=finish,
            input_size=size,
        )
