"""`python -m benchmarks.saliency_cv`: saliency on a cohort medtl did not make, by the protocol a user follows.

`benchmarks.chest_phantom` draws 100 patients of 256^2 DICOM chest radiographs with its own anatomy (40% of the
patients with one nodule of 9-15 px radius on each image); `medtl cv configs/demo_xray.yaml` runs on it as
shipped (64^2 input, the demo's source model); then every positive image is explained by the fold model that
held its patient out, with the default method (`auto`) and the others beside it, and scored against the nodule
masks (pointing game: the map's maximum inside the nodule). Writes benchmarks/SALIENCY_CV.md.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.chest_phantom import nodule_cohort
from benchmarks.measure import machine_load, quiet_library_notices
from medtl.config import ExperimentConfig
from medtl.demo import ensure_source_model
from medtl.engine.workflows.cv import run_cv
from medtl.engine.workflows.explain_run import explain_run

OUT = Path(__file__).with_name("SALIENCY_CV.md")
OTHERS = ["gradxlocal", "gradient", "gradxinput", "occlusion", "gradcam"]


def measure(root: Path, run_dir: Path, seed: int) -> tuple[dict, list[dict]]:
    """Run the cross-validation on `root`, then explain its positive cases with each method; returns the run's
    summary and one row per method (`auto` first)."""
    cfg = ExperimentConfig.packaged("demo_xray.yaml").with_overrides(
        [f"data.root={root}", "data.layout=csv", f"seed={seed}"])
    ensure_source_model(cfg)
    result = run_cv(cfg, run_dir, overwrite=True, progress=False)
    positive = result.oof.loc[result.oof["label"] == result.summary["positive"], "case_id"].tolist()
    rows = []
    for method in ["auto", *OTHERS]:
        start = time.perf_counter()
        summary = explain_run(run_dir, positive, method)
        rows.append({"method": method, "chosen": summary["method"], "layer": summary.get("target_layer"),
                     "pointing": summary["pointing_game_hit_rate"], "chance": summary["pointing_game_chance"],
                     "energy": summary["mean_energy_in_mask"], "flagged": summary["n_degenerate"],
                     "cases": summary["n_cases"], "seconds": time.perf_counter() - start})
        print(f"  {method:<12} ({summary['method']}): pointing {rows[-1]['pointing']:.2f} over {rows[-1]['cases']}")
    return result.summary, rows


def markdown(results: list[tuple[int, dict, list[dict]]], seconds: float) -> str:
    lines = ["# Saliency by the user's protocol, on a cohort medtl did not make\n",
             f"`python -m benchmarks.saliency_cv` ({date.today()}, {machine_load()}, {seconds / 60:.1f} min). "
             "Cohort: `benchmarks/chest_phantom.py` (100 patients, 256^2 16-bit DICOM, own anatomy, 40% of "
             "patients with one nodule of 9-15 px radius on every image). Run: `medtl cv configs/demo_xray.yaml` "
             "as shipped (64^2, from medtl:synth-cxr-resnet18, 5 folds). Every positive image is explained by the "
             "fold model that held its patient out. Pointing game: share of those maps whose maximum lies inside "
             "the nodule; chance: the nodules' mean area share.\n"]
    for seed, summary, rows in results:
        pooled = summary["pooled"]["patient"]
        low, high = pooled["bootstrap_ci"]
        lines += [f"## Cohort seed {seed}\n",
                  f"Pooled patient AUC {pooled['auc']:.3f} [{low:.3f}, {high:.3f}] over {pooled['n']} patients.\n",
                  "| method | pointing game | chance | energy in the nodule | flagged | images | seconds |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            name = f"auto ({r['chosen']})" if r["method"] == "auto" else r["method"]
            energy = "" if r["energy"] is None else f"{r['energy']:.2f}"
            lines.append(f"| {name} | {r['pointing']:.2f} | {r['chance']:.3f} | {energy} | {r['flagged']} | "
                         f"{r['cases']} | {r['seconds']:.0f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.saliency_cv", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    quiet_library_notices()
    start, results = time.perf_counter(), []
    with tempfile.TemporaryDirectory(prefix="medtl-bench-saliency-cv-") as workdir:
        for seed in args.seeds:
            print(f"cohort seed {seed}: {args.patients} patients")
            root = nodule_cohort(Path(workdir) / f"cohort-{seed}", args.patients, seed)
            summary, rows = measure(root, Path(workdir) / f"run-{seed}", seed)
            results.append((seed, summary, rows))
    args.out.write_text(markdown(results, time.perf_counter() - start))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
