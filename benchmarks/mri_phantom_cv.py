"""`python -m benchmarks.mri_phantom_cv`: the 3D defaults on brain-MRI cohorts medtl did not make.

`benchmarks.brain_phantom` draws 40-patient cohorts with its own anatomy (dark skull under a bright fat layer,
folded cortex, curved ventricles, left-right and front-back flipped affines, 64x64x40 voxels of 1.2x1.2x2.0 mm,
each scanner's own intensity range, half the patients with one bright lesion of 7-14% of the head's radius).
`configs/mri_cls_3d.yaml` runs on its class folders and `configs/mri_seg_3d.yaml` on its Decathlon layout, as
shipped (from the cached source U-Net, which this pretrains first where it is missing, as `medtl demo mri` does).
Writes benchmarks/MRI_PHANTOM.md: pooled patient AUC with its CI and the pointing game of the run's saved maps
(every lesion volume, explained by the fold model that held it out, scored against the masks the class folders keep
aside), mean lesion Dice with its CI, and the time of each run.
"""
from __future__ import annotations

import argparse
import csv
import tempfile
import time
from datetime import date
from pathlib import Path

import nibabel as nib
import numpy as np

from benchmarks.brain_phantom import brain_cohort
from benchmarks.measure import machine_load, quiet_library_notices
from medtl.config import ExperimentConfig
from medtl.demo import ensure_source_model
from medtl.demo_mri import MRI_SOURCES
from medtl.engine.workflows.cv import run_cv

OUT = Path(__file__).with_name("MRI_PHANTOM.md")


def measure(workdir: Path, seed: int, patients: int) -> dict:
    """Both 3D configs on the phantom cohort of `seed`; returns their figures."""
    row: dict = {"seed": seed}
    for task, config, layout in (("classification", "mri_cls_3d.yaml", "folders"),
                                 ("segmentation", "mri_seg_3d.yaml", "msd")):
        cfg = ExperimentConfig.packaged(config)
        ensure_source_model(cfg, MRI_SOURCES[cfg["model.weights"]])
        root = brain_cohort(workdir / f"{layout}-{seed}", patients, seed, layout=layout)
        data = root / "images" if layout == "folders" else root
        start, run_dir = time.perf_counter(), workdir / f"run-{task}-{seed}"
        result = run_cv(cfg.with_overrides([f"data.root={data}", f"seed={seed}"]), run_dir, overwrite=True,
                        progress=False)
        row[f"{task}_seconds"] = time.perf_counter() - start
        row[task] = result.summary
        if task == "classification":
            row["maps"] = pointing_on_kept_masks(root, run_dir / "explain")
        print(f"seed {seed} {task}: {time.perf_counter() - start:.0f} s")
    return row


def pointing_on_kept_masks(root: Path, maps: Path) -> dict:
    """Score the run's saved maps (NIfTI, each on its source file's grid) against the masks the class folders
    leave aside: the share of lesion volumes whose map peaks inside the lesion, and its chance (the lesions'
    mean share of the volume)."""
    hits, chance = [], []
    with open(root / "truth.csv", newline="") as table:
        lesions = [row for row in csv.DictReader(table) if row["label"] == "lesion"]
    for row in lesions:
        heat = np.asarray(nib.load(str(maps / f"{row['patient_id']}.nii.gz")).dataobj)
        mask = np.asarray(nib.load(str(root / row["mask"])).dataobj) > 0
        hits.append(bool(mask.flat[int(np.argmax(heat))]))
        chance.append(float(mask.mean()))
    return {"pointing_game_hit_rate": float(np.mean(hits)), "pointing_game_chance": float(np.mean(chance)),
            "n": len(hits)}


def markdown(rows: list[dict], seconds: float) -> str:
    lines = ["# The 3D defaults on brain-MRI cohorts medtl did not make\n",
             f"`python -m benchmarks.mri_phantom_cv` ({date.today()}, {machine_load()}, {seconds / 60:.1f} min). "
             "Cohorts: `benchmarks/brain_phantom.py`, 40 patients each (64x64x40 NIfTI voxels of 1.2x1.2x2.0 mm, "
             "half with one bright lesion). Runs: `medtl cv configs/mri_cls_3d.yaml` on the class folders and "
             "`medtl cv configs/mri_seg_3d.yaml` on the Decathlon layout, as shipped, 5 folds.\n",
             "| cohort seed | pooled patient AUC | pointing game (chance) | seconds | mean lesion Dice | seconds |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        pooled = r["classification"]["pooled"]["patient"]
        explained = r.get("maps", {})
        pointing = explained.get("pointing_game_hit_rate")
        chance = explained.get("pointing_game_chance")
        maps = "" if pointing is None else f"{pointing:.2f} ({chance:.3f})"
        dice = r["segmentation"]["patient"]["dice"]
        lines.append(f"| {r['seed']} | {pooled['auc']:.3f} [{pooled['bootstrap_ci'][0]:.3f}, "
                     f"{pooled['bootstrap_ci'][1]:.3f}] | {maps} | {r['classification_seconds']:.0f} | "
                     f"{dice['mean']:.3f} [{dice['ci'][0]:.3f}, {dice['ci'][1]:.3f}] | "
                     f"{r['segmentation_seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mri_phantom_cv", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    quiet_library_notices()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="medtl-bench-mri-phantom-") as workdir:
        rows = [measure(Path(workdir), seed, args.patients) for seed in args.seeds]
    args.out.write_text(markdown(rows, time.perf_counter() - start))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
