"""`run_demo_seeds`: per-seed comparisons and the comparison over every seed's patients together."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

import medtl.demo as demo
from medtl.engine.workflows.cv import CVResult
from medtl.evaluate.compare import compare_predictions

PATIENTS = 12


def _predictions(seed: int, noise: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = np.arange(PATIENTS) % 2
    p = np.clip(0.5 + (y - 0.5) * 0.4 + rng.normal(0, noise, PATIENTS), 0.01, 0.99)
    return pd.DataFrame({"case_id": [f"P{i:03d}_01" for i in range(PATIENTS)],
                         "patient_id": [f"P{i:03d}" for i in range(PATIENTS)], "fold": np.arange(PATIENTS) % 3,
                         "label": np.where(y == 1, "nodule", "normal"), "y_true": y,
                         "p_normal": 1 - p, "p_nodule": p})


def _fake_run_demo(out, patients, seed, overrides, overwrite):
    Path(out).mkdir(parents=True)  # as the real run folder would be
    pretrained, scratch = (CVResult(Path(out) / name, {}, _predictions(seed, noise))
                           for name, noise in (("", 0.1), ("baseline_scratch", 0.6)))
    return pretrained, scratch, compare_predictions(pretrained.oof, scratch.oof, n_boot=50)


def test_seeds_are_tabulated_and_pooled_over_every_patient(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "run_demo", _fake_run_demo)
    table = demo.run_demo_seeds(tmp_path / "demo", seeds=3, patients=PATIENTS, first_seed=5)
    assert [row["seed"] for row in table["seeds"]] == [5, 6, 7]
    assert table["all_seeds"]["patients"] == 3 * PATIENTS  # same ids in every seed stay distinct patients
    assert table["pretrained_better"] == sum(row["difference"]["auc"] > 0 for row in table["seeds"])
    per_seed = [row["difference"]["auc"] for row in table["seeds"]]
    assert np.isclose(table["mean_difference"], np.mean(per_seed))
    assert table["all_seeds"]["difference"]["auc"] > 0
    assert table["all_seeds"]["pretrained"]["bootstrap_ci"][0] <= table["all_seeds"]["pretrained"]["auc"]
    assert json.loads((tmp_path / "demo" / demo.SEEDS_FILE).read_text()) == table
    printed = capsys.readouterr().out
    assert "all " in printed and "of 3 seeds" in printed
