"""`medtl train` under DDP: 2 gloo processes on the CPU end with identical weights, and only rank 0 writes."""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from medtl.config import ExperimentConfig
from medtl.synth import make_xray

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, cfg_data: dict, out: str, dump: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    import medtl.engine.workflows.train_run as train_run

    if rank == 1:  # any write by rank 1 into the run folder fails the run
        def refuse(*args, **kwargs):
            raise AssertionError("rank 1 wrote to the run folder")
        train_run.Classifier.save = refuse
        train_run.RunFolder.create = refuse
        train_run.ExperimentConfig.to_yaml = refuse
    clf = train_run.run_train(ExperimentConfig.from_dict(cfg_data), out, progress=False)
    save_file({k: v.contiguous() for k, v in clf.model_.state_dict().items()}, os.path.join(dump, f"rank{rank}.safetensors"))
    torch.distributed.destroy_process_group()


def test_two_gloo_processes_train_identical_models(tmp_path):
    data = make_xray(tmp_path / "data", patients=8, size=32, seed=4)
    cfg = {"data": {"root": str(data), "layout": "csv"}, "model": {"weights": "none"},
           "transforms": {"input_size": [32, 32]}, "train": {"epochs": 2, "batch_size": 4}}
    out, dump = tmp_path / "run", tmp_path / "dump"
    dump.mkdir()
    mp.spawn(_worker, args=(_free_port(), cfg, str(out), str(dump)), nprocs=2, join=True)
    a, b = load_file(dump / "rank0.safetensors"), load_file(dump / "rank1.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)  # BatchNorm buffers included
    assert sorted(p.name for p in out.iterdir()) == ["cases.csv", "config.yaml", "history.csv", "history.png",
                                                     "model.json", "model.safetensors"]
    saved = load_file(out / "model.safetensors")
    assert all(torch.equal(saved[k], a[k]) for k in a)
