"""`medtl demo mri`: the 3D demo. Synthetic brain-MRI source and target sets, a lesion-detecting U-Net pretrained on
the source task's lesion masks (cached as medtl:synth-mri-unet18_3d), then lesion classification and lesion
segmentation cross-validated from it and from scratch on identical patient folds, compared per seed and over all
seeds with bootstrap CIs and paired tests (DeLong for AUC, Wilcoxon for Dice)."""
from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from medtl.config import ExperimentConfig
from medtl.engine.workflows.baseline import BASELINE_FOLDER, run_with_scratch_baseline, scratch_config
from medtl.engine.workflows.cv import CVResult, run_cv
from medtl.evaluate import Splits
from medtl.evaluate.compare import compare_predictions
from medtl.evaluate.seg_compare import compare_dice
from medtl.demo import (SEEDS_FILE, SourceTask, comparison_row, ensure_source_model, format_seed_table, seed_table,
                        synthetic, tag_patients)
from medtl.synth import make_mri

VOLUME = {"shape": (40, 40, 24), "spacing": (1.5, 1.5, 2.5), "volumes_per_patient": (1, 1)}
MRI_SOURCE = SourceTask("mri", make_mri, 400, "pretrain_mri_3d.yaml", "", {"task": "source", **VOLUME})
# Each cached source model and the config that trains it, on the one synthetic source set.
MRI_SOURCES = {"medtl:synth-mri-resnet18_3d": MRI_SOURCE,
               "medtl:synth-mri-unet18_3d": replace(MRI_SOURCE, pretrain_config="pretrain_mri_seg_3d.yaml")}
CONFIGS = {"classification": "mri_cls_3d.yaml", "segmentation": "mri_seg_3d.yaml"}
# Classification from scratch: a cohort's case labels cannot train the pretrained lesion detector (it needs voxel
# labels, and a full U-Net pass per volume per step), so the baseline is the 3D classifier a cohort can train: a
# ResNet-18 with global pooling on the whole volume resized to 32x32x24, every layer trained. On the demo's target
# set (seed 0) it reached pooled AUC 0.400 after 30 epochs; 15 keep the demo within its time.
CLASSIFIER_FROM_SCRATCH = ["model.head=pool", "model.pool=avg", "transforms.fit=resize", "transforms.input_size=[32,32,24]",
                           "train.epochs=15"]
# Segmentation from scratch: the same U-Net and steps, at the rate a randomly initialised U-Net learns with (the
# pretrained one fine-tunes at lr 1e-4, which would barely move random weights).
SEGMENTER_FROM_SCRATCH = ["train.lr=0.003"]


def run_mri_demo(out: str | Path = "runs/demo-mri", patients: int = 40, seed: int = 0,
                 overrides: list[str] | None = None, overwrite: bool = False) -> dict[str, tuple[CVResult, CVResult, dict]]:
    """Run both 3D tasks on the target set of `seed`, pretrained and from scratch: classification in
    `out/classification` (scratch in its baseline_scratch/), segmentation in `out/segmentation`. Returns
    {task: (pretrained run, scratch run, comparison)}. `overrides` apply to both tasks' configs.

    Example:
        >>> runs = run_mri_demo("runs/demo-mri")                                    # doctest: +SKIP
        >>> runs["segmentation"][2]["difference"]["dice"] > 0                        # doctest: +SKIP
        True
    """
    start, out = time.perf_counter(), Path(out)
    target = synthetic(make_mri, "mri", "lesion", patients, seed, **VOLUME)
    runs, seconds = {}, {}
    for task, config in CONFIGS.items():
        cfg = ExperimentConfig.packaged(config).with_overrides(overrides or [])
        stage = time.perf_counter()
        weights = ensure_source_model(cfg, MRI_SOURCES.get(cfg["model.weights"], MRI_SOURCE))
        seconds["source model"] = seconds.get("source model", 0.0) + time.perf_counter() - stage
        cfg = cfg.with_overrides([f"data.root={target}", f"seed={seed}"])
        scratch = "a 3D ResNet-18 classifier" if task == "classification" else "the same U-Net"
        print(f"{task}: from {weights} on {patients} target patients (seed {seed}), then {scratch} from scratch "
              "on the same folds")
        stage = time.perf_counter()
        if task == "classification":
            runs[task] = run_with_scratch_baseline(cfg, out / task, overwrite, scratch_overrides=CLASSIFIER_FROM_SCRATCH)
        else:
            runs[task] = _segmentation_with_scratch_baseline(cfg, out / task, overwrite, SEGMENTER_FROM_SCRATCH)
        seconds[task] = time.perf_counter() - stage
    stages = ", ".join(f"{name} {value:.0f} s" for name, value in seconds.items())
    print(f"3D demo, seed {seed}: {time.perf_counter() - start:.0f} s ({stages}); run folder {out}")
    return runs


def _segmentation_with_scratch_baseline(cfg: ExperimentConfig, out: Path, overwrite: bool,
                                        scratch_overrides: list[str]) -> tuple[CVResult, CVResult, dict]:
    pretrained = run_cv(cfg, out, overwrite=overwrite)
    scratch = run_cv(scratch_config(cfg, scratch_overrides), out / BASELINE_FOLDER, splits=Splits.from_json(out / "splits.json"))
    comparison = compare_dice(pretrained.oof, scratch.oof)
    (out / f"compare_{BASELINE_FOLDER}.json").write_text(json.dumps(comparison, indent=2) + "\n")
    return pretrained, scratch, comparison


def run_mri_demo_seeds(out: str | Path = "runs/demo-mri", seeds: int = 3, patients: int = 40, first_seed: int = 0,
                       overrides: list[str] | None = None, overwrite: bool = False) -> dict[str, Any]:
    """`run_mri_demo` on `seeds` independent target sets (each in `out/seed-<k>`), tabulated per task as the 2D
    demo does (`medtl.demo.run_demo_seeds`): writes and returns `out/transfer_seeds.json` =
    {"classification": AUC table, "segmentation": Dice table}.

    Example:
        >>> tables = run_mri_demo_seeds("runs/demo-mri", seeds=3)  # doctest: +SKIP
        >>> tables["segmentation"]["pretrained_better"]            # doctest: +SKIP
        3
    """
    out = Path(out)
    rows: dict[str, list] = {task: [] for task in CONFIGS}
    pooled: dict[str, dict[str, list[pd.DataFrame]]] = {task: {"a": [], "b": []} for task in CONFIGS}
    for seed in range(first_seed, first_seed + seeds):
        runs = run_mri_demo(out / f"seed-{seed}", patients, seed, overrides, overwrite)
        for task, (pretrained, scratch, comparison) in runs.items():
            rows[task].append(comparison_row(seed, comparison, _metric(task)))
            pooled[task]["a"].append(tag_patients(pretrained.oof, seed))
            pooled[task]["b"].append(tag_patients(scratch.oof, seed))
    cls_last = runs["classification"][2]
    every = {"classification": compare_predictions(*(pd.concat(pooled["classification"][arm]) for arm in "ab"),
                                                   cls_last["aggregate"], cls_last["positive"]),
             "segmentation": compare_dice(*(pd.concat(pooled["segmentation"][arm]) for arm in "ab"))}
    tables = {task: seed_table(rows[task], comparison_row("all", every[task], _metric(task)), patients, _metric(task))
              for task in CONFIGS}
    (out / SEEDS_FILE).write_text(json.dumps(tables, indent=2) + "\n")
    for task, table in tables.items():
        print(f"\n{task}\n{format_seed_table(table)}")
    return tables


def _metric(task: str) -> str:
    return "auc" if task == "classification" else "dice"
