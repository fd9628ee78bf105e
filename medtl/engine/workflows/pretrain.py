"""Source pretraining: train a backbone on a larger labelled source set and store it in medtl's weight
cache as `medtl:<name>`, ready to seed a target task."""
from __future__ import annotations

from pathlib import Path

from medtl.config import ExperimentConfig
from medtl.engine.workflows.classifier import Classifier
from medtl.engine.workflows.cohort import load_table
from medtl.models import store_weights
from medtl.models.checkpoints.cache import writable_entry


def pretrain(cfg: ExperimentConfig, name: str | None = None, overwrite: bool = False, progress: bool = True) -> Path:
    """Train `model.backbone` on every case under `data.root` and store it as `medtl:<name>`
    (`name` defaults to `pretrain.name`). Returns the stored weights file. An existing entry is refused before
    any training unless `overwrite`; with `train.tensorboard`, event files go to the entry's tensorboard/.

    Example:
        >>> pretrain(ExperimentConfig.from_yaml("configs/pretrain_source.yaml"))  # doctest: +SKIP
        PosixPath('/home/me/.cache/medtl/weights/synth-cxr-resnet18/model.safetensors')
    """
    name = name or cfg["pretrain.name"]
    if not name:
        raise ValueError(f"{cfg.source}: set pretrain.name (the cache entry to create, used as medtl:<name>)")
    folder = writable_entry(name, overwrite)  # refused before training, not after
    table = load_table(cfg)
    clf = Classifier(cfg).fit(table, progress=progress, log_dir=folder / "tensorboard")
    description = (f"{cfg['model.backbone']} trained on {len(table)} cases of {cfg['data.root']} "
                   f"({', '.join(clf.classes_)})")
    return store_weights(name, clf.model_, cfg["model.backbone"], description=description, overwrite=overwrite)
