"""Source pretraining: train a model on a larger labelled source set and store it in medtl's weight cache as
`medtl:<name>`, ready to seed a target task."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from medtl.config import ExperimentConfig
from medtl.engine.tasks.fitting import fit_model
from medtl.engine.tasks.registry import make_task
from medtl.engine.training.setup import case_cache
from medtl.engine.workflows.cohort import load_table
from medtl.models import store_weights
from medtl.models.checkpoints.cache import writable_entry


def pretrain(cfg: ExperimentConfig, name: str | None = None, overwrite: bool = False, progress: bool = True) -> Path:
    """Train `model.backbone` for the config's `task` on every case under `data.root` and store it as
    `medtl:<name>` (`name` defaults to `pretrain.name`). Returns the stored weights file. A classifier is stored
    as the backbone with its head; a segmentation U-Net whole (encoder and decoder), so that it seeds a U-Net
    or a `model.head: lesion_map` classifier whole and any other model by its encoder. An existing entry is
    refused before any training unless `overwrite`; with `train.tensorboard`, event files go to the entry's
    tensorboard/.

    Example:
        >>> pretrain(ExperimentConfig.from_yaml("configs/pretrain_source.yaml"))  # doctest: +SKIP
        PosixPath('/home/me/.cache/medtl/weights/synth-cxr-resnet18/model.safetensors')
    """
    name = name or cfg["pretrain.name"]
    if not name:
        raise ValueError(f"{cfg.source}: set pretrain.name (the cache entry to create, used as medtl:<name>)")
    folder = writable_entry(name, overwrite)  # refused before training, not after
    table = load_table(cfg)
    task = make_task(cfg, table)
    cache = case_cache(cfg, task.items, task.pipes, progress=progress)
    fit = fit_model(task, cache, np.arange(len(task.items)), cfg["seed"], log_dir=folder / "tensorboard",
                    progress=progress)
    description = (f"{cfg['model.backbone']} trained on {len(table)} cases of {cfg['data.root']} "
                   f"({cfg['task']}: {', '.join(table.classes)})")
    return store_weights(name, fit.model, cfg["model.backbone"], description=description, overwrite=overwrite)
