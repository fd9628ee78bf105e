"""Source pretraining: train a backbone on a larger labelled source set and store it in medtl's weight
cache as `medtl:<name>`, ready to seed a target task."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from medtl.config import ExperimentConfig
from medtl.engine.cv import load_table
from medtl.engine.datasets import case_items
from medtl.engine.labels import resolve_classes
from medtl.engine.loop import TrainSettings, class_weights, train
from medtl.engine.setup import Pipelines, build_model, case_cache
from medtl.models import store_weights


def pretrain(cfg: ExperimentConfig, name: str | None = None, overwrite: bool = False, progress: bool = True) -> Path:
    """Train `model.backbone` on every case under `data.root` and store it as `medtl:<name>`
    (`name` defaults to `pretrain.name`). Returns the stored weights file.

    Example:
        >>> pretrain(ExperimentConfig.from_yaml("configs/pretrain_source.yaml"))  # doctest: +SKIP
        PosixPath('/home/me/.cache/medtl/weights/synth-cxr-resnet18/model.safetensors')
    """
    name = name or cfg["pretrain.name"]
    if not name:
        raise ValueError(f"{cfg.source}: set pretrain.name (the cache entry to create, used as medtl:<name>)")
    table = load_table(cfg)
    classes, _ = resolve_classes(table, cfg["data.positive_label"])
    pipes = Pipelines.from_config(cfg)
    items = case_items(table, classes, with_mask=False)
    y = np.array([item["y"] for item in items])
    torch.manual_seed(cfg["seed"])
    pipes.train.set_random_state(cfg["seed"])
    model = build_model(cfg, len(classes))
    train(model, case_cache(cfg, items, pipes, progress).subset(np.arange(len(items)), pipes.train),
          TrainSettings.from_config(cfg), head=model.spec.classifier,
          loss_weights=class_weights(y, len(classes)), progress=progress, desc=f"pretrain {name}")
    description = f"{cfg['model.backbone']} trained on {len(table)} cases of {cfg['data.root']} ({', '.join(classes)})"
    return store_weights(name, model, cfg["model.backbone"], description=description, overwrite=overwrite)
