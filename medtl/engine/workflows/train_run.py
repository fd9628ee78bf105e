"""`run_train`: fine-tune one model on every case and write it to a run folder (`medtl train`), on one
process or under `torchrun` with DDP."""
from __future__ import annotations

from pathlib import Path

import torch.distributed as dist

from medtl.config import ExperimentConfig
from medtl.engine.training.checkpoint import remove_checkpoint
from medtl.engine.workflows.classifier import Classifier
from medtl.engine.workflows.cohort import load_table
from medtl.engine.training.distributed import init_from_env, is_main_process
from medtl.run_folder import RunFolder


def run_train(cfg: ExperimentConfig, out: str | Path, overwrite: bool = False, resume: bool = False,
              progress: bool = True) -> Classifier:
    """Fit `cfg`'s model on all cases under `data.root` (less the patients `train.val_fraction` holds out for
    validation); write config.yaml, cases.csv, model.safetensors, model.json (backbone, classes, positive class),
    history.csv, history.png, load_report.json and, with `train.tensorboard`, tensorboard/ into `out`.

    Every epoch is checkpointed, so `resume=True` continues a killed run. Started by `torchrun`, every process
    trains on its shard with DDP and only rank 0 writes.

    Example:
        >>> clf = run_train(ExperimentConfig.from_yaml("configs/demo_xray.yaml"), "runs/final")  # doctest: +SKIP
    """
    distributed = init_from_env()
    run = RunFolder(out)
    if is_main_process():
        run.resume(cfg) if resume else run.create(overwrite)
        cfg.to_yaml(run.config)
    if distributed:
        dist.barrier()  # the folder is ready (and emptied when overwriting) before any rank reads a checkpoint
    table = load_table(cfg)
    clf = Classifier(cfg).fit(table, checkpoint=run.root, progress=progress and is_main_process(),
                              log_dir=run.root / "tensorboard")
    if is_main_process():
        table.to_csv(run.cases)
        clf.save(run.root)
        remove_checkpoint(run.root)
    return clf
