"""`python -m benchmarks.saliency` (`make bench-saliency`): which saliency method points at the lesion.

For each input size, a classifier is fine-tuned on one cohort and its maps of the held-out positive images of a
second set of patients are scored against their lesion masks, for every method x layer: pointing game (the map's
maximum inside the lesion), energy in the lesion (share of the map's mass inside it; a uniform map gets the
lesion's area share), the randomisation check (Spearman correlation with the map of the model whose top two
layers are re-initialised; low is good), the share of maps flagged as no evidence, and cost (median time of the
map of a batch over one inference pass of it). Cohort A is medtl.synth's (the choice of `explain.method: auto`
is made on it); cohort B is made differently (`saliency_cohorts.other_xray`) and is not used to choose.
Writes benchmarks/SALIENCY.md.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from benchmarks.measure import interleaved_medians, machine_load, quiet_library_notices
from benchmarks.saliency_cohorts import medtl_mri, medtl_xray, other_xray
from medtl.config import ExperimentConfig
from medtl.data import scan_folder
from medtl.demo import ensure_source_model
from medtl.engine.workflows.classifier import Classifier
from medtl.engine.pipeline.datasets import case_items
from medtl.engine.training.setup import Pipelines, build_model
from medtl.explain import degenerate_reason, energy_in_mask, pointing_game, randomization_correlations, saliency
from medtl.explain.geometry import resize_to_image
from medtl.io import read_image

OUT = Path(__file__).with_name("SALIENCY.md")
COST_LIMIT = {2: 5.0, 3: 10.0}  # the default may cost this many inference passes (2D, 3D)
MIN_AUC = 0.7  # a model below this held-out AUC has not learned the task: its maps choose nothing
# (method, layer, smoothing): None = the method's default smoothing (1/64 of the side for gradient methods), 0 = none,
# else the Gaussian's sigma as a share of the smallest side
LESION_SCALE = 1 / 32
CANDIDATES_2D = [("verified", None, None), ("gradxlocal", None, None), ("gradxlocal", None, LESION_SCALE),
                 ("gradient", None, None), ("gradient", None, LESION_SCALE), ("gradient", None, 0.0),
                 ("gradxinput", None, None), ("smoothgrad", None, None), ("integrated_gradients", None, None),
                 ("occlusion", None, None), ("gradcam", "layer1", None), ("gradcam", "layer2", None),
                 ("gradcampp", "layer2", None), ("layercam", "layer1", None), ("hirescam", "layer1", None)]
CANDIDATES_3D = [("verified", None, None), ("gradxlocal", None, None), ("gradient", None, None),
                 ("gradxinput", None, None), ("gradcam", "layer2", None), ("layercam", "layer2", None),
                 ("hirescam", "layer2", None)]
# patients for training and testing, and training epochs, per input side (fewer at the costly large sizes)
PLAN_2D = {64: (60, 30, 8), 128: (60, 30, 8)}
# Sides measured for cost alone, on the source model: fine-tuning at 224^2 did not learn within this benchmark's
# budget (held-out AUC 0.40-0.52 on cohort A over five tries: 30-40 patients, 4-10 epochs, lr 1e-3 or 3e-3,
# batch 8 or 16, 1.5 min each), so its maps would show nothing about pointing.
COST_ONLY_SIDES = (224,)
PLAN_3D = (40, 20, 12)
QUICK_PLAN = (12, 8, 1)  # --quick: checks that the benchmark runs, measures nothing
MRI_SIDE, COST_SIDE_3D = 32, 96
MAX_OCCLUSION_SIDE = 64  # occlusion costs about 225 inference passes per image: not measured at larger sides
COSTLY = {"smoothgrad", "integrated_gradients", "occlusion"}  # 14-300 inference passes a map:
COSTLY_IMAGES = 10  # scored on the first images of each cohort only
CHUNK = 16


@dataclass
class Task:
    """A fitted model and the held-out positive images it is scored on."""

    name: str
    model: torch.nn.Module
    images: torch.Tensor
    data: list
    masks: list[np.ndarray]
    target: int
    auc: float
    called: np.ndarray  # per scored image: does the model call it positive (probability >= 0.5)?


def fit_task(name: str, train_root: Path, test_root: Path, cfg: ExperimentConfig) -> Task:
    """Fine-tune on `train_root`'s cohort, keep `test_root`'s positive images with their masks."""
    train, test = scan_folder(train_root, layout="csv"), scan_folder(test_root, layout="csv")
    clf = Classifier(cfg).fit(train)
    proba = clf.predict_proba(test)
    target = clf.classes_.index(clf.positive_)
    auc = float(roc_auc_score(proba["label"] == clf.positive_, proba[f"p_{clf.positive_}"]))
    items = [i for i in case_items(test, clf.classes_, with_mask=False) if i["y"] == target]
    rows = test.df[test.df["label"] == clf.positive_]
    images = torch.stack([torch.as_tensor(clf.pipelines_.eval(clf.pipelines_.preprocess(i))["image"]) for i in items])
    data = [read_image(p) for p in rows["image"]]
    masks = [read_image(m).array > 0 for m in rows["mask"]]
    called = proba.loc[proba["label"] == clf.positive_, f"p_{clf.positive_}"].to_numpy() >= 0.5
    return Task(name, clf.model_.eval(), images, data, masks, target, auc, called)


def score(task: Task, method: str, layer: str | None, smoothing: float | None) -> dict[str, float]:
    """Pointing game, energy in the lesion and its chance value, randomisation correlation, share flagged."""
    hits, energy, chance, corr, flagged = [], [], [], [], []
    images = task.images[:COSTLY_IMAGES] if method in COSTLY else task.images
    for start in range(0, len(images), CHUNK):
        x = images[start : start + CHUNK]
        sigma = None if smoothing is None else smoothing * min(x.shape[2:])
        maps = saliency(task.model, x, layer, method, task.target, sigma)
        r = _randomization(task, x, layer, method, sigma, maps)
        for i, heat in enumerate(maps):
            on_image = resize_to_image(heat, task.data[start + i])
            mask = task.masks[start + i]
            hits.append(pointing_game(on_image, mask))
            energy.append(energy_in_mask(on_image, mask))
            chance.append(mask.mean())
            corr.append(r[i])
            flagged.append(degenerate_reason(heat, x[i], float(r[i])) is not None)
    called = task.called[: len(hits)]
    return {"pointing": np.mean(hits), "energy": np.mean(energy), "chance": np.mean(chance),
            "randomization": float(np.nanmedian(corr)), "flagged": np.mean(flagged), "n": len(hits),
            "pointing_called": np.mean(np.array(hits)[called]) if called.any() else float("nan")}


def _randomization(task: Task, x: torch.Tensor, layer: str | None, method: str, smoothing: float | None,
                   maps: torch.Tensor) -> np.ndarray:
    if smoothing is None:
        return randomization_correlations(task.model, x, layer, method, 2, task.target, maps)
    # The check with the same smoothing as the maps it is compared with.
    from medtl.explain.faithfulness import _spearman, _with_top_layers_reset
    reset = saliency(_with_top_layers_reset(task.model, 2), x, layer, method, task.target, smoothing)
    return np.array([_spearman(a.numpy(), b.numpy()) for a, b in zip(maps, reset)])


def cost(model: torch.nn.Module, images: torch.Tensor, method: str, layer: str | None, repeats: int) -> float:
    """Median time of the batch's maps over one inference pass of it."""
    @torch.no_grad()
    def inference() -> torch.Tensor:
        return model(images)

    times = interleaved_medians({"map": lambda: saliency(model, images, layer, method, 1), "inference": inference},
                                repeats=repeats)
    return times["map"] / times["inference"]


def xray_config(size: int, epochs: int, weights: str) -> ExperimentConfig:
    return ExperimentConfig.from_dict({
        "model": {"backbone": "resnet18", "weights": weights}, "transforms": {"input_size": [size, size]},
        "train": {"strategy": "full", "epochs": epochs, "batch_size": 16, "lr": 0.001}, "seed": 0})


def run_2d(size: int, workdir: Path, weights: str, quick: bool) -> tuple[list[Task], list[dict]]:
    n_train, n_test, epochs = QUICK_PLAN if quick else PLAN_2D[size]
    cfg = xray_config(size, epochs, weights)
    cohorts = {"A": medtl_xray, "B": other_xray}
    tasks = []
    for name, make in cohorts.items():
        roots = [make(workdir / f"{name}{size}-{part}", n, seed, size)
                 for part, n, seed in (("train", n_train, 1), ("test", n_test, 2))]
        tasks.append(fit_task(f"{name} {size}^2", *roots, cfg))
        print(f"  cohort {tasks[-1].name}: held-out AUC {tasks[-1].auc:.3f}, {len(tasks[-1].images)} positive images")
    rows = []
    for method, layer, smoothing in CANDIDATES_2D:
        if method == "occlusion" and size > MAX_OCCLUSION_SIDE:
            continue
        row = {"size": f"{size}^2", "method": method, "layer": layer, "smoothing": smoothing}
        start = time.perf_counter()
        for task in tasks:
            row[task.name[0]] = score(task, method, layer, smoothing)
        row["cost"] = cost(tasks[0].model, tasks[0].images[:CHUNK], method, layer, repeats=3)
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        print("  " + _line(row))
    return tasks, rows


def run_cost_only(size: int, workdir: Path, weights: str) -> list[dict]:
    """Cost of each candidate at `size` on a batch of cohort A's images through the source model."""
    cfg = xray_config(size, 1, weights)
    model, pipes = build_model(cfg, 2).eval(), Pipelines.from_config(cfg)
    table = scan_folder(medtl_xray(workdir / f"A{size}-cost", CHUNK // 2, 3, size), layout="csv")
    images = torch.stack([torch.as_tensor(pipes.eval(pipes.preprocess(i))["image"])
                          for i in case_items(table, sorted(set(table.df["label"])), with_mask=False)])
    rows = []
    for method, layer, smoothing in CANDIDATES_2D:
        if method in COSTLY or smoothing is not None:
            continue
        rows.append({"size": f"{size}^2", "method": method, "layer": layer, "smoothing": smoothing,
                     "cost": cost(model, images, method, layer, repeats=3)})
        print(f"  {size}^2 {_name(rows[-1]):<32} cost {rows[-1]['cost']:.1f}x")
    return rows


def run_3d(workdir: Path, quick: bool) -> tuple[Task, list[dict]]:
    n_train, n_test, epochs = QUICK_PLAN if quick else PLAN_3D
    cfg = ExperimentConfig.from_dict({
        "model": {"backbone": "resnet18_3d", "weights": "none"}, "transforms": {"input_size": [MRI_SIDE] * 3},
        "train": {"strategy": "full", "epochs": epochs, "batch_size": 8, "lr": 0.001}, "seed": 0})
    roots = [medtl_mri(workdir / f"mri-{part}", n, seed, MRI_SIDE)
             for part, n, seed in (("train", n_train, 1), ("test", n_test, 2))]
    task = fit_task(f"A {MRI_SIDE}^3", *roots, cfg)
    print(f"  cohort {task.name}: held-out AUC {task.auc:.3f}, {len(task.images)} positive volumes")
    big = build_model(cfg.with_overrides([f"transforms.input_size=[{COST_SIDE_3D},{COST_SIDE_3D},{COST_SIDE_3D}]"]),
                      2).eval()
    volume = torch.randn(1, 1, COST_SIDE_3D, COST_SIDE_3D, COST_SIDE_3D)
    rows = []
    for method, layer, smoothing in CANDIDATES_3D:
        start = time.perf_counter()
        row = {"size": f"{MRI_SIDE}^3", "method": method, "layer": layer, "smoothing": smoothing,
               "A": score(task, method, layer, smoothing)}
        cheap = method not in COSTLY and smoothing is None
        row["cost"] = cost(big, volume, method, layer, repeats=3) if cheap else float("nan")
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        print("  " + _line(row))
    return task, rows


def choose(rows: list[dict], limit: float, auc: float = 1.0) -> dict | None:
    """The row with the best pointing game on cohort A (then energy) among those costing at most `limit`; None
    when cohort A's model has not learned the task (held-out AUC below `MIN_AUC`)."""
    if auc < MIN_AUC:
        return None
    affordable = [r for r in rows if np.isfinite(r["cost"]) and r["cost"] <= limit]
    return max(affordable, key=lambda r: (r["A"]["pointing"], r["A"]["energy"]))


def _name(row: dict) -> str:
    smooth = {None: "", 0: ", unsmoothed", LESION_SCALE: ", smoothed at 1/32 of the side"}[row["smoothing"]]
    return f"{row['method']}{'' if row['layer'] is None else ' @ ' + row['layer']}{smooth}"


def _pointing(measured: dict) -> str:
    return f"{measured['pointing']:.2f} ({measured['pointing_called']:.2f})"


def _line(row: dict) -> str:
    cells = [f"{_pointing(row[c])} / {row[c]['energy']:.2f}" for c in ("A", "B") if c in row]
    return f"{row['size']:>6} {_name(row):<32} pointing/energy {'  '.join(cells)}  r {row['A']['randomization']:.2f}" \
           f"  cost {row['cost']:.1f}x  ({row.get('seconds', 0):.0f} s)"


def markdown(sections: list[tuple[str, list[Task], list[dict], dict]], seconds: float) -> str:
    lines = ["# Saliency: which method points at the lesion\n",
             f"`make bench-saliency` ({date.today()}, {machine_load()}, {seconds / 60:.1f} min). "
             "Pointing game: share of held-out positive images whose map peaks inside the lesion (in brackets: "
             "over those the model calls positive, probability >= 0.5). Energy: share of "
             "the map's mass inside the lesion (a uniform map: the chance value). r: median Spearman correlation with "
             "the map of the model whose top two layers are re-initialised (low: the map depends on what the model "
             "learned). Flagged: share of maps `medtl.explain.degenerate_reason` refuses to draw. Cost: time of the "
             "maps of a batch over one inference pass (3D: one volume at 96^3, randomly initialised resnet18_3d). "
             "Cohort A: medtl.synth (the default is chosen on it); cohort B: made differently "
             "(benchmarks/saliency_cohorts.py: letterboxed 8-bit PNG, ellipses and lobulated blobs of other sizes "
             "and contrasts, 35% prevalence), never used to choose. "
             f"{', '.join(sorted(COSTLY))} are scored on the first {COSTLY_IMAGES} positive images of each cohort.\n"]
    for title, tasks, rows, chosen in sections:
        lines.append(f"## {title}\n")
        if not tasks:
            lines += ["Cost alone, on the source model: fine-tuning at this side did not learn within the "
                      "benchmark's budget (held-out AUC 0.40-0.52 over five tries, see `COST_ONLY_SIDES`), so pointing "
                      "is not measured here; `auto` takes the nearest measured side's choice.\n", "| method | cost |", "|---|---|"]
            lines += [f"| {_name(r)} | {r['cost']:.1f}x |" for r in rows] + [""]
            continue
        lines.append("Held-out AUC of the fine-tuned models: " + ", ".join(f"cohort {t.name}: {t.auc:.3f} "
                     f"({len(t.images)} positive images scored, {int(t.called.sum())} called positive)" for t in tasks) + ".")
        lines.append(f"Below an AUC of {MIN_AUC} on cohort A the model has not learned the task and the section "
                     "chooses nothing; its maps show only what an untrained model's maps look like.\n"
                     if chosen is None else "")
        has_b = "B" in rows[0]
        head = "| method | pointing A | energy A (chance) | r A | flagged A |" + (
            " pointing B | energy B (chance) | flagged B |" if has_b else "") + " cost |"
        lines += [head, "|" + "---|" * (head.count("|") - 1)]
        for r in rows:
            a = r["A"]
            cells = [_name(r) + (" **(auto)**" if r is chosen else ""), _pointing(a),
                     f"{a['energy']:.2f} ({a['chance']:.3f})", f"{a['randomization']:.2f}", f"{a['flagged']:.2f}"]
            if has_b:
                b = r["B"]
                cells += [_pointing(b), f"{b['energy']:.2f} ({b['chance']:.3f})", f"{b['flagged']:.2f}"]
            cells.append("not measured" if not np.isfinite(r["cost"]) else f"{r['cost']:.1f}x")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.saliency", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=sorted(PLAN_2D), choices=sorted(PLAN_2D))
    parser.add_argument("--no-3d", action="store_true", help="skip the MRI volumes")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--weights", help="X-ray starting weights (default: the demo's source model)")
    parser.add_argument("--quick", action="store_true", help="tiny cohorts, one epoch: a check that it runs")
    args = parser.parse_args(argv)
    quiet_library_notices()
    torch.manual_seed(0)
    start = time.perf_counter()
    weights = args.weights or ensure_source_model(ExperimentConfig.packaged("demo_xray.yaml"))
    sections = []
    with tempfile.TemporaryDirectory(prefix="medtl-bench-saliency-") as workdir:
        for size in args.sizes:
            print(f"chest X-rays at {size}^2, ResNet-18 fine-tuned from {weights}")
            tasks, rows = run_2d(size, Path(workdir), weights, args.quick)
            chosen = choose(rows, COST_LIMIT[2], tasks[0].auc)
            print(f"  auto: {_name(chosen) if chosen else 'none (the model did not learn the task)'}")
            sections.append((f"Chest X-rays, ResNet-18 at {size}^2", tasks, rows, chosen))
        for size in COST_ONLY_SIDES:
            print(f"chest X-rays at {size}^2, cost alone on {weights}")
            sections.append((f"Chest X-rays, ResNet-18 at {size}^2: cost", [], run_cost_only(size, Path(workdir),
                                                                                               weights), None))
        if not args.no_3d:
            print(f"brain MRI at {MRI_SIDE}^3, resnet18_3d trained from scratch")
            task, rows = run_3d(Path(workdir), args.quick)
            chosen = choose(rows, COST_LIMIT[3], task.auc)
            print(f"  auto: {_name(chosen) if chosen else 'none (the model did not learn the task)'}")
            sections.append((f"Brain MRI, resnet18_3d at {MRI_SIDE}^3 (cost at {COST_SIDE_3D}^3)", [task], rows,
                             chosen))
    args.out.write_text(markdown(sections, time.perf_counter() - start))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
