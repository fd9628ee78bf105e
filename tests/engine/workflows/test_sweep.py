"""`medtl sweep`: a grid of cv runs on identical folds, spread over ranks, ending in one comparison table."""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pandas as pd
import pytest
import torch.multiprocessing as mp
import yaml

from medtl.cli.main import main
from medtl.config import ExperimentConfig
from medtl.engine.workflows.sweep import choose_baseline, grid_points, parse_grid, rank_share, run_sweep
from medtl.synth import make_xray


def _config(tmp_path: Path, **train) -> Path:
    data = make_xray(tmp_path / "data", patients=12, size=32, seed=5)
    cfg = {"name": "tiny", "data": {"root": str(data / "images"), "layout": "class-folders"},
           "model": {"backbone": "resnet18", "weights": "none"}, "transforms": {"input_size": [32, 32]},
           "train": {"epochs": 1, "batch_size": 8, **train}, "cv": {"folds": 2},
           "explain": {"cases": 1, "target_layer": "layer3"}}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_grid_parsing_naming_baseline_and_rank_shares() -> None:
    grid = parse_grid(["model.backbone=resnet18,resnet34", "transforms.input_size=[32,32],[64, 64]"])
    assert grid == {"model.backbone": ["resnet18", "resnet34"], "transforms.input_size": ["[32,32]", "[64, 64]"]}
    points = grid_points(grid)
    assert [p.name for p in points] == ["backbone-resnet18_input_size-32-32", "backbone-resnet18_input_size-64-64",
                                        "backbone-resnet34_input_size-32-32", "backbone-resnet34_input_size-64-64"]
    assert choose_baseline(points, None) == points[0]
    assert choose_baseline(points, ["model.backbone=resnet34", "transforms.input_size=[64, 64]"]) == points[3]
    with pytest.raises(ValueError, match="matches 2 grid points"):
        choose_baseline(points, ["model.backbone=resnet34"])
    for world in (1, 2, 3, 5):
        shares = [rank_share(points, rank, world) for rank in range(world)]
        assert sorted(p.name for share in shares for p in share) == sorted(p.name for p in points)
    for bad, message in [(["data.root=a,b"], "cannot vary"), (["train.lr"], "key=value1"),
                         (["seed=1", "seed=2"], "twice"), ([], "at least one")]:
        with pytest.raises(ValueError, match=message):
            parse_grid(bad)


@pytest.mark.slow
def test_a_two_by_two_grid_runs_and_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = _config(tmp_path)
    out = tmp_path / "sweep"
    code = main(["sweep", str(config), "--grid", "train.strategy=full,linear_probe", "--grid", "train.lr=0.001,0.01",
                 "--baseline", "train.strategy=full", "--baseline", "train.lr=0.01", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    names = ["strategy-full_lr-0.001", "strategy-full_lr-0.01", "strategy-linear_probe_lr-0.001",
             "strategy-linear_probe_lr-0.01"]
    table = printed[printed.index("Sweep of 4 runs"):].splitlines()
    assert [line.split()[0] for line in table[2:6]] == names
    assert table[3].endswith("baseline") and sum("baseline" in line for line in table[2:6]) == 1
    splits = {(out / name / "splits.json").read_text() for name in names}
    assert len(splits) == 1  # every run on the same folds
    summary = json.loads((out / "sweep_summary.json").read_text())
    assert summary["baseline"] == "strategy-full_lr-0.01" and len(summary["runs"]) == 4
    compared = [r["comparison"] for r in summary["runs"] if r["comparison"]]
    assert len(compared) == 3 and all(0.0 <= c["difference"]["p_value"] <= 1.0 for c in compared)
    assert all(c["run_b"].endswith("strategy-full_lr-0.01") for c in compared)
    saved = ExperimentConfig.from_yaml(out / "strategy-linear_probe_lr-0.001" / "config.yaml")
    assert (saved["train.strategy"], saved["train.lr"]) == ("linear_probe", 0.001)
    assert pd.read_csv(out / "sweep.csv")["run"].tolist() == names


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, port: int, config: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank),
                      LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")
    import torch

    torch.set_num_threads(1)
    mine = sorted(p.name for p in rank_share(grid_points({"train.lr": ["0.001", "0.01", "0.1"]}), rank, 2))
    table = run_sweep(ExperimentConfig.from_yaml(config), {"train.lr": ["0.001", "0.01", "0.1"]}, out,
                      progress=False)
    Path(out, f"rank{rank}.json").write_text(json.dumps({"runs": mine, "table": table is not None}))


@pytest.mark.slow
def test_two_ranks_share_the_grid_and_rank_zero_compares(tmp_path: Path) -> None:
    config = _config(tmp_path, strategy="linear_probe")
    out = tmp_path / "sweep"
    mp.spawn(_rank, args=(_free_port(), str(config), str(out)), nprocs=2, join=True)
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    assert ranks[0] == {"runs": ["lr-0.001", "lr-0.1"], "table": True}
    assert ranks[1] == {"runs": ["lr-0.01"], "table": False}
    summary = json.loads((out / "sweep_summary.json").read_text())
    assert [r["name"] for r in summary["runs"]] == ["lr-0.001", "lr-0.01", "lr-0.1"]
    assert all((out / name / "oof_predictions.csv").is_file() for name in ("lr-0.001", "lr-0.01", "lr-0.1"))
