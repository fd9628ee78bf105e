"""Data-parallel training with PyTorch DDP, started by `torchrun` (one process per GPU, or gloo on CPUs)."""
from __future__ import annotations

import os

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


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


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
