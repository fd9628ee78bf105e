"""The embedded default: synthetic chest X-rays, source pretraining, then the target task fine-tuned from the
pretrained backbone and from scratch on identical patient folds, compared with confidence intervals; over
several target seeds when asked."""
from __future__ import annotations

import json
import time

import pandas as pd
from pathlib import Path
from typing import Any

from medtl.config import ExperimentConfig
from medtl.engine.workflows.baseline import run_with_scratch_baseline
from medtl.engine.workflows.cv import CVResult
from medtl.engine.workflows.pretrain import pretrain
from medtl.evaluate.compare import compare_predictions
from medtl.evaluate.tables import format_ci, format_number
from medtl.models import cached_weights, medtl_home
from medtl.synth import make_xray

SOURCE_PATIENTS = 800
SOURCE_SEED = 0  # one source model serves every target seed, as one pretrained checkpoint would
SEEDS_FILE = "transfer_seeds.json"


def _synthetic_root(kind: str, patients: int, seed: int) -> Path:
    return medtl_home() / "demo" / f"xray-{kind}-p{patients}-s{seed}"


def _synthetic(kind: str, patients: int, seed: int, **kwargs) -> Path:
    """A synthetic set under $MEDTL_HOME/demo, generated once and reused (generation is deterministic)."""
    root = _synthetic_root(kind, patients, seed)
    if not (root / "cases.csv").is_file():
        make_xray(root, patients=patients, seed=seed, task=kind, **kwargs)
    return root


def ensure_source_model(cfg: ExperimentConfig) -> str:
    """Pretrain the demo's source model on the synthetic source task unless `cfg`'s `medtl:` weights are cached
    already, trained on this version's source set; returns the weights reference.

    Example:
        >>> ensure_source_model(ExperimentConfig.packaged("demo_xray.yaml"))  # doctest: +SKIP
        'medtl:synth-cxr-resnet18'
    """
    weights = cfg["model.weights"]
    if not weights.startswith("medtl:"):
        return weights
    name = weights.removeprefix("medtl:")
    source = _synthetic_root("source", SOURCE_PATIENTS, SOURCE_SEED) / "images"
    cached = {w["name"]: w for w in cached_weights()}
    if name in cached and str(source) in cached[name].get("description", ""):
        print(f"source model {weights} is in the cache; reusing it")
        return weights
    print(f"pretraining the source model {weights} on {SOURCE_PATIENTS} synthetic source patients")
    _synthetic("source", SOURCE_PATIENTS, SOURCE_SEED, fmt="png", images_per_patient=(1, 1))
    pretrain(ExperimentConfig.packaged("pretrain_source.yaml").with_overrides([f"data.root={source}"]), name=name,
             overwrite=name in cached)
    return weights


def run_demo(out: str | Path = "runs/demo", patients: int = 40, seed: int = 0, overrides: list[str] | None = None,
             overwrite: bool = False) -> tuple[CVResult, CVResult, dict[str, Any]]:
    """Run the demo on the target set of `seed`; returns (pretrained run, from-scratch run, their comparison).
    The pretrained run is written to `out`, the scratch baseline to `out/baseline_scratch`, their comparison to
    `out/compare_baseline_scratch.json`.

    Example:
        >>> pretrained, scratch, comparison = run_demo("runs/demo")  # doctest: +SKIP
        >>> comparison["difference"]["auc"] > 0                       # doctest: +SKIP
        True
    """
    start = time.perf_counter()
    cfg = ExperimentConfig.packaged("demo_xray.yaml").with_overrides(overrides or [])
    weights = ensure_source_model(cfg)
    target = _synthetic("nodule", patients, seed)
    cfg = cfg.with_overrides([f"data.root={target}", f"seed={seed}"])
    print(f"fine-tuning {cfg['model.backbone']} from {weights} on {patients} target patients (seed {seed}), "
          "then from scratch on the same folds")
    pretrained, scratch, comparison = run_with_scratch_baseline(cfg, out, overwrite=overwrite)
    print(f"pooled out-of-fold patient-level AUC: pretrained {pretrained.pooled_auc:.3f} vs scratch "
          f"{scratch.pooled_auc:.3f}   ({time.perf_counter() - start:.0f} s; run folder {out})")
    return pretrained, scratch, comparison


def run_demo_seeds(out: str | Path = "runs/demo", seeds: int = 3, patients: int = 40, first_seed: int = 0,
                   overrides: list[str] | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Repeat the demo on `seeds` independent target sets (seeds `first_seed`, `first_seed + 1`, ...), each in
    `out/seed-<k>`, with one source model; writes and returns `out/transfer_seeds.json`: per seed, both AUCs
    with bootstrap CIs and the paired difference with its CI and DeLong p-value; and the same comparison over
    the patients of every seed together (`all_seeds`, each patient predicted out-of-fold within its own seed).

    Example:
        >>> table = run_demo_seeds("runs/demo-seeds", seeds=3)  # doctest: +SKIP
        >>> table["pretrained_better"]                          # doctest: +SKIP
        3
    """
    out = Path(out)
    rows, pooled = [], {"pretrained": [], "scratch": []}
    for seed in range(first_seed, first_seed + seeds):
        pretrained, scratch, comparison = run_demo(out / f"seed-{seed}", patients, seed, overrides, overwrite)
        rows.append(_comparison_row(seed, comparison))
        tag = f"s{seed}-"
        for arm, run in (("pretrained", pretrained), ("scratch", scratch)):
            pooled[arm].append(run.oof.assign(patient_id=tag + run.oof["patient_id"], case_id=tag + run.oof["case_id"]))
    all_seeds = compare_predictions(pd.concat(pooled["pretrained"]), pd.concat(pooled["scratch"]),
                                    comparison["aggregate"], comparison["positive"])
    differences = [row["difference"]["auc"] for row in rows]
    table = {"patients": patients, "seeds": rows, "all_seeds": _comparison_row("all", all_seeds),
             "mean_difference": sum(differences) / len(differences),
             "pretrained_better": sum(d > 0 for d in differences)}
    (out / SEEDS_FILE).write_text(json.dumps(table, indent=2) + "\n")
    print(format_seed_table(table))
    return table


def format_seed_table(table: dict[str, Any]) -> str:
    """The per-seed comparison as a fixed-width table.

    Example:
        >>> row = {"seed": 0, "pretrained": {"auc": 0.8, "bootstrap_ci": [0.7, 0.9]},
        ...        "scratch": {"auc": 0.6, "bootstrap_ci": [0.4, 0.8]},
        ...        "difference": {"auc": 0.2, "bootstrap_ci": [0.0, 0.4], "p_value": 0.04}}
        >>> print(format_seed_table({"patients": 40, "seeds": [row], "mean_difference": 0.2,
        ...                          "pretrained_better": 1}).splitlines()[3])
           0  0.800 [0.700, 0.900]  0.600 [0.400, 0.800]  +0.200 [0.000, 0.400]     0.040
    """
    lines = [f"Pretrained vs from scratch, {table['patients']} target patients per seed, pooled out-of-fold "
             "patient-level AUC (95% bootstrap CI)", "",
             f"{'seed':>4}  {'pretrained':<20}  {'scratch':<20}  {'difference':<21}  {'DeLong p':>8}"]
    for row in table["seeds"] + ([table["all_seeds"]] if "all_seeds" in table else []):
        cells = [f"{format_number(row[arm]['auc'])} {format_ci(row[arm]['bootstrap_ci'])}"
                 for arm in ("pretrained", "scratch")]
        diff = row["difference"]
        p_value = "n/a" if diff["p_value"] is None else "<0.001" if diff["p_value"] < 1e-3 else f"{diff['p_value']:.3f}"
        lines.append(f"{row['seed']:>4}  {cells[0]:<20}  {cells[1]:<20}  "
                     f"{format_number(diff['auc'], signed=True)} {format_ci(diff['bootstrap_ci']):<14}  {p_value:>8}")
    lines += ["", f"pretrained better on {table['pretrained_better']} of {len(table['seeds'])} seeds; "
                  f"mean difference {format_number(table['mean_difference'], signed=True)}"]
    return "\n".join(lines)


def _comparison_row(seed: int | str, comparison: dict[str, Any]) -> dict[str, Any]:
    return {"seed": seed, "patients": comparison["n_patients"],
            **{arm: {"auc": comparison[key]["auc"], "bootstrap_ci": comparison[key]["bootstrap_ci"]}
               for arm, key in (("pretrained", "a"), ("scratch", "b"))},
            "difference": {key: comparison["difference"][key] for key in ("auc", "bootstrap_ci", "p_value")}}
