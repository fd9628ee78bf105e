"""The folds of a cross-validation, the same for every task: fit on the other folds' patients (with inner
validation, per-epoch checkpoints and reseeding), predict the held-out patients, save the fold; one process
after another, or spread over the processes `torchrun` starts (`cv.parallel`)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch.distributed as dist

from medtl.engine.training.checkpoint import remove_checkpoint
from medtl.engine.workflows.console import say
from medtl.engine.pipeline.datasets import CaseCache
from medtl.engine.training.distributed import alone, barrier, is_distributed, is_main_process
from medtl.engine.tasks.fitting import fit_model
from medtl.engine.training.model_files import save_fold
from medtl.engine.tasks.task import Task
from medtl.engine.tasks.validation import best_epoch_note
from medtl.run_folder import FOLD_PREDICTIONS, RunFolder

PARALLEL = ("folds", "ddp")


def run_fold(task: Task, run: RunFolder, cache: CaseCache, fold_of: np.ndarray, k: int, resume: bool = False,
             progress: bool = True) -> pd.DataFrame:
    """Fold `k` of `task` (cases with `fold_of == k` held out); returns its held-out predictions.

    The fold trains with seed `seed + k` and checkpoints every epoch into `fold_<k>/`, so a killed run resumed
    with `resume` continues after the last finished epoch; a fold already finished is read back instead.

    Example:
        >>> frame = run_fold(task, RunFolder("runs/demo"), cache, splits.fold_of(table), 0)  # doctest: +SKIP
    """
    folder = run.fold(k)
    if resume and (folder / FOLD_PREDICTIONS).is_file():
        say(progress, f"fold {k + 1}: already finished, kept")
        return pd.read_csv(folder / FOLD_PREDICTIONS, dtype=task.fold_dtypes)
    train_rows, held_out = np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)
    fit = fit_model(task, cache, train_rows, task.cfg["seed"] + k, checkpoint=folder,
                    log_dir=run.root / "tensorboard" / f"fold_{k}", progress=progress,
                    desc=f"fold {k + 1}/{fold_of.max() + 1}")
    frame = task.predict(fit.model, cache, held_out, k)
    if is_main_process():
        save_fold(folder, fit.model, fit.history, frame)
        remove_checkpoint(folder)
    say(progress, f"fold {k + 1}: {len(fit.fit_rows)} train / {len(fit.check_rows)} validation / {len(held_out)} "
                   f"held-out cases, final loss {fit.history['loss'].iloc[-1]:.3f}{best_epoch_note(fit.history)}")
    return frame


def run_folds(task: Task, run: RunFolder, cache: CaseCache, fold_of: np.ndarray, resume: bool = False,
              progress: bool = True) -> list[pd.DataFrame] | None:
    """Every fold's held-out predictions, in fold order (`run_fold` each).

    Under `torchrun`, `cv.parallel: folds` gives rank r the folds k with k % world_size == r, each trained as by
    a lone process (so every fold ends as it would in a plain run); `cv.parallel: ddp` trains every fold
    data-parallel over all ranks. Rank 0 then reads every fold back and returns them; other ranks return None.

    Example:
        >>> frames = run_folds(task, RunFolder("runs/demo"), cache, splits.fold_of(table))  # doctest: +SKIP
    """
    mode = task.cfg["cv.parallel"]
    if mode not in PARALLEL:
        raise ValueError(f"cv.parallel must be one of {list(PARALLEL)}. Got {mode!r} instead.")
    n_folds = int(fold_of.max()) + 1
    if not is_distributed():
        return [run_fold(task, run, cache, fold_of, k, resume, progress) for k in range(n_folds)]
    if mode == "folds":
        with alone():
            for k in range(dist.get_rank(), n_folds, dist.get_world_size()):
                run_fold(task, run, cache, fold_of, k, resume, progress)
    else:
        for k in range(n_folds):
            run_fold(task, run, cache, fold_of, k, resume, progress and is_main_process())
    barrier()
    if not is_main_process():
        return None
    return [pd.read_csv(run.fold(k) / FOLD_PREDICTIONS, dtype=task.fold_dtypes) for k in range(n_folds)]
