"""Validation under DDP: two gloo processes that measure different values still select the same epoch and stop
together (rank 0's measurement decides), ending with identical weights."""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file
from torch import nn

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, dump: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    from medtl.engine.training.distributed import init_from_env
    from medtl.engine.training.loop import train
    from medtl.engine.training.objective import FitContext
    from medtl.engine.training.selection import Validation
    from medtl.engine.training.recipe.settings import TrainSettings

    init_from_env()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(4, 2))
    data = [{"image": torch.randn(1, 8, 8), "y": i % 2} for i in range(16)]
    own = iter([0.5, 0.9, 0.6, 0.7, 0.8] if rank == 0 else [0.9, 0.1, 0.95, 0.99, 0.99])
    history = train(model, data, TrainSettings(epochs=5, batch_size=4, val_fraction=0.2, patience=2), head="5",
                    progress=False, context=FitContext(seed=0, validation=Validation("val_auc", lambda m: next(own))))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    state["val_auc"] = torch.tensor(history["val_auc"].tolist())
    save_file(state, os.path.join(dump, f"rank{rank}.safetensors"))
    torch.distributed.destroy_process_group()


def test_ranks_follow_rank_zero_validation(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    a, b = load_file(tmp_path / "rank0.safetensors"), load_file(tmp_path / "rank1.safetensors")
    assert a["val_auc"].tolist() == b["val_auc"].tolist() == pytest.approx([0.5, 0.9, 0.6, 0.7])
    assert all(torch.equal(a[k], b[k]) for k in a)
