"""`medtl demo mri`: both tasks tabulated per seed and over every seed; the paired Dice comparison."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import medtl.demo_mri as demo_mri
from medtl.cli.main import main
from medtl.engine.workflows.cv import CVResult
from medtl.evaluate.compare import compare_predictions
from medtl.evaluate.seg_compare import compare_dice

PATIENTS = 10


def _cls(seed: int, noise: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = np.arange(PATIENTS) % 2
    p = np.clip(0.5 + (y - 0.5) * 0.4 + rng.normal(0, noise, PATIENTS), 0.01, 0.99)
    return pd.DataFrame({"case_id": [f"P{i:03d}_01" for i in range(PATIENTS)],
                         "patient_id": [f"P{i:03d}" for i in range(PATIENTS)], "fold": np.arange(PATIENTS) % 2,
                         "label": np.where(y == 1, "lesion", "normal"), "y_true": y, "p_normal": 1 - p, "p_lesion": p})


def _seg(seed: int, level: float) -> pd.DataFrame:
    dice = np.where(np.arange(PATIENTS) % 2 == 1, np.clip(level + np.random.default_rng(seed).normal(0, 0.05, PATIENTS),
                                                          0, 1), np.nan)
    return _cls(seed, 0.1)[["case_id", "patient_id", "fold"]].assign(dice=dice)


def _fake_run_mri_demo(out, patients, seed, overrides, overwrite):
    Path(out).mkdir(parents=True)
    runs = {}
    for task, make, good, bad, compare in (("classification", _cls, 0.1, 0.6, lambda a, b: compare_predictions(a, b, n_boot=50)),
                                           ("segmentation", _seg, 0.7, 0.3, lambda a, b: compare_dice(a, b, n_boot=50))):
        a, b = CVResult(Path(out), {}, make(seed, good)), CVResult(Path(out), {}, make(seed, bad))
        runs[task] = (a, b, compare(a.oof, b.oof))
    return runs


def test_both_tasks_are_tabulated_per_seed_and_over_all_seeds(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo_mri, "run_mri_demo", _fake_run_mri_demo)
    tables = demo_mri.run_mri_demo_seeds(tmp_path / "demo", seeds=2, patients=PATIENTS, first_seed=3)
    seg = tables["segmentation"]
    assert [row["seed"] for row in seg["seeds"]] == [3, 4] and seg["metric"] == "dice"
    assert seg["all_seeds"]["patients"] == 2 * PATIENTS // 2  # patients with a lesion, distinct across seeds
    assert seg["pretrained_better"] == 2 and seg["all_seeds"]["difference"]["bootstrap_ci"][0] > 0
    assert tables["classification"]["all_seeds"]["patients"] == 2 * PATIENTS
    assert json.loads((tmp_path / "demo" / "transfer_seeds.json").read_text()) == tables
    printed = capsys.readouterr().out
    assert "lesion Dice" in printed and "Wilcoxon p" in printed and "DeLong p" in printed


def test_dice_comparison_pairs_patients_and_refuses_other_cases():
    a = _seg(0, 0.8)
    result = compare_dice(a, a.assign(dice=a["dice"] - 0.1), n_boot=200)
    assert result["difference"]["dice"] == pytest.approx(0.1) and result["n_patients"] == PATIENTS // 2
    assert result["difference"]["bootstrap_ci"] == pytest.approx([0.1, 0.1]) and result["difference"]["p_value"] < 0.1
    with pytest.raises(ValueError, match="different cases"):
        compare_dice(a, a.iloc[1:])


def test_cli_runs_the_mri_demo(monkeypatch, tmp_path):
    called = {}
    monkeypatch.setattr(demo_mri, "run_mri_demo", lambda out, **kwargs: called.update(out=out, **kwargs))
    assert main(["demo", "mri", "--out", str(tmp_path / "d"), "--patients", "12"]) == 0
    assert called["out"] == str(tmp_path / "d") and called["patients"] == 12
