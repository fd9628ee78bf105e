"""Data-parallel training with PyTorch DDP, started by `torchrun` (one process per GPU, or gloo on CPUs)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.distributed as dist
from torch import nn


def init_from_env() -> bool:
    """Join the process group `torchrun` describes in the environment (WORLD_SIZE > 1); NCCL on GPUs, gloo
    otherwise. Returns whether this process is part of a distributed run.

    Example:
        >>> init_from_env()  # in a plain `python` process
        False
    """
    if dist.is_initialized():
        return True
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return True


_alone = False  # set by `alone`: this process works as if it were the only one


def is_distributed() -> bool:
    """Whether this process trains together with others (DDP): in a process group, and not `alone`."""
    return not _alone and dist.is_available() and dist.is_initialized()


@contextmanager
def alone() -> Iterator[None]:
    """Work inside as a lone process although in a process group: no DDP, no collectives, and this process
    writes its own checkpoints (`cv.parallel: folds`, where each rank trains folds of its own).

    Example:
        >>> with alone():
        ...     is_distributed(), is_main_process()
        (False, True)
    """
    global _alone
    before, _alone = _alone, True
    try:
        yield
    finally:
        _alone = before


def barrier() -> None:
    """Wait for every process of the group (nothing to wait for in a plain run)."""
    if is_distributed():
        dist.barrier()


def is_main_process() -> bool:
    """True on rank 0 (and in a plain run): the one process that writes files.

    Example:
        >>> is_main_process()
        True
    """
    return not is_distributed() or dist.get_rank() == 0


def sync_buffers(model: nn.Module) -> None:
    """Give every rank rank 0's buffers (e.g. BatchNorm running statistics, which each rank updates on its own
    shard of the data), so all ranks end with identical models."""
    if is_distributed():
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)
