"""The embedded default: synthetic chest X-rays, source pretraining, then the target task fine-tuned from the
pretrained backbone and from scratch on identical patient folds, compared with confidence intervals; over
several target seeds when asked."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from medtl.config import ExperimentConfig
from medtl.engine.workflows.baseline import run_with_scratch_baseline
from medtl.engine.workflows.cv import CVResult
from medtl.engine.workflows.pretrain import pretrain
from medtl.evaluate.compare import compare_predictions
from medtl.evaluate.tables import format_ci, format_number
from medtl.models import cached_weights, medtl_home
from medtl.synth import make_xray

SEEDS_FILE = "transfer_seeds.json"
SOURCE_SEED = 0  # one source model serves every target seed, as one pretrained checkpoint would


@dataclass(frozen=True)
class SourceTask:
    """A demo's synthetic source task: the generator and its arguments, how many patients, and the pretraining
    config that turns it into the cached source model.

    Example:
        >>> XRAY_SOURCE.pretrain_config
        'pretrain_source.yaml'
    """

    modality: str
    make: Callable[..., Path]
    patients: int
    pretrain_config: str
    data_folder: str
    options: dict[str, Any] = field(default_factory=dict)

    def root(self) -> Path:
        """Where the generated source set lives."""
        return synthetic_root(self.modality, "source", self.patients, SOURCE_SEED)


XRAY_SOURCE = SourceTask("xray", make_xray, 800, "pretrain_source.yaml", "images",
                         {"task": "source", "fmt": "png", "images_per_patient": (1, 1)})


def synthetic_root(modality: str, kind: str, patients: int, seed: int) -> Path:
    """Where a synthetic demo set is kept: $MEDTL_HOME/demo/<modality>-<kind>-p<patients>-s<seed>.

    Example:
        >>> synthetic_root("mri", "lesion", 40, 0).name
        'mri-lesion-p40-s0'
    """
    return medtl_home() / "demo" / f"{modality}-{kind}-p{patients}-s{seed}"


def synthetic(make: Callable[..., Path], modality: str, kind: str, patients: int, seed: int, **kwargs) -> Path:
    """A synthetic set under $MEDTL_HOME/demo, generated once by `make` and reused (generation is deterministic).

    Example:
        >>> synthetic(make_xray, "xray", "nodule", 40, 0)  # doctest: +SKIP
        PosixPath('/home/me/.cache/medtl/demo/xray-nodule-p40-s0')
    """
    root = synthetic_root(modality, kind, patients, seed)
    if not (root / "cases.csv").is_file():
        make(root, patients=patients, seed=seed, **kwargs)
    return root


def ensure_source_model(cfg: ExperimentConfig, source: SourceTask = XRAY_SOURCE) -> str:
    """Pretrain the demo's source model on the synthetic `source` task unless `cfg`'s `medtl:` weights are
    cached already, trained on this version's source set; returns the weights reference.

    Example:
        >>> ensure_source_model(ExperimentConfig.packaged("demo_xray.yaml"))  # doctest: +SKIP
        'medtl:synth-cxr-resnet18'
    """
    weights = cfg["model.weights"]
    if not weights.startswith("medtl:"):
        return weights
    name = weights.removeprefix("medtl:")
    data = source.root() / source.data_folder
    cached = {w["name"]: w for w in cached_weights()}
    if name in cached and f"of {data} " in cached[name].get("description", ""):
        print(f"source model {weights} is in the cache; reusing it")
        return weights
    print(f"pretraining the source model {weights} on {source.patients} synthetic source patients")
    synthetic(source.make, source.modality, "source", source.patients, SOURCE_SEED, **source.options)
    pretrain(ExperimentConfig.packaged(source.pretrain_config).with_overrides([f"data.root={data}"]), name=name,
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
    target = synthetic(make_xray, "xray", "nodule", patients, seed, task="nodule")
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
        rows.append(comparison_row(seed, comparison))
        pooled["pretrained"].append(tag_patients(pretrained.oof, seed))
        pooled["scratch"].append(tag_patients(scratch.oof, seed))
    all_seeds = compare_predictions(pd.concat(pooled["pretrained"]), pd.concat(pooled["scratch"]),
                                    comparison["aggregate"], comparison["positive"])
    table = seed_table(rows, comparison_row("all", all_seeds), patients)
    (out / SEEDS_FILE).write_text(json.dumps(table, indent=2) + "\n")
    print(format_seed_table(table))
    return table


def tag_patients(oof: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Out-of-fold predictions with patient and case ids prefixed by their seed, so that the same ids in two
    target sets stay two patients when pooled.

    Example:
        >>> tag_patients(pd.DataFrame({"patient_id": ["P0"], "case_id": ["P0_01"]}), 2).iloc[0].tolist()
        ['s2-P0', 's2-P0_01']
    """
    return oof.assign(patient_id=f"s{seed}-" + oof["patient_id"], case_id=f"s{seed}-" + oof["case_id"])


def seed_table(rows: list[dict[str, Any]], all_seeds: dict[str, Any], patients: int,
               metric: str = "auc") -> dict[str, Any]:
    """The per-seed comparison rows (`comparison_row`) with the pooled row, the mean difference and on how many
    seeds the pretrained model was better.

    Example:
        >>> row = {"seed": 0, "difference": {"auc": 0.2}}
        >>> seed_table([row], {"seed": "all"}, 40)["pretrained_better"]
        1
    """
    differences = [row["difference"][metric] for row in rows]
    return {"patients": patients, "metric": metric, "seeds": rows, "all_seeds": all_seeds,
            "mean_difference": sum(differences) / len(differences),
            "pretrained_better": sum(d > 0 for d in differences)}


METRIC_WORDS = {"auc": ("pooled out-of-fold patient-level AUC", "DeLong p"),
                "dice": ("mean out-of-fold lesion Dice over patients with a lesion", "Wilcoxon p")}


def format_seed_table(table: dict[str, Any]) -> str:
    """The per-seed comparison as a fixed-width table (its `metric`: "auc", the default, or "dice").

    Example:
        >>> row = {"seed": 0, "pretrained": {"auc": 0.8, "bootstrap_ci": [0.7, 0.9]},
        ...        "scratch": {"auc": 0.6, "bootstrap_ci": [0.4, 0.8]},
        ...        "difference": {"auc": 0.2, "bootstrap_ci": [0.0, 0.4], "p_value": 0.04}}
        >>> print(format_seed_table({"patients": 40, "seeds": [row], "mean_difference": 0.2,
        ...                          "pretrained_better": 1}).splitlines()[3])
           0  0.800 [0.700, 0.900]  0.600 [0.400, 0.800]  +0.200 [0.000, 0.400]     0.040
    """
    metric = table.get("metric", "auc")
    words, test = METRIC_WORDS[metric]
    lines = [f"Pretrained vs from scratch, {table['patients']} target patients per seed, {words} (95% bootstrap CI)",
             "", f"{'seed':>4}  {'pretrained':<20}  {'scratch':<20}  {'difference':<21}  {test:>8}"]
    for row in table["seeds"] + ([table["all_seeds"]] if table.get("all_seeds") else []):
        cells = [f"{format_number(row[arm][metric])} {format_ci(row[arm]['bootstrap_ci'])}"
                 for arm in ("pretrained", "scratch")]
        diff = row["difference"]
        p_value = "n/a" if diff["p_value"] is None else "<0.001" if diff["p_value"] < 1e-3 else f"{diff['p_value']:.3f}"
        lines.append(f"{row['seed']:>4}  {cells[0]:<20}  {cells[1]:<20}  "
                     f"{format_number(diff[metric], signed=True)} {format_ci(diff['bootstrap_ci']):<14}  {p_value:>{len(test)}}")
    lines += ["", f"pretrained better on {table['pretrained_better']} of {len(table['seeds'])} seeds; "
                  f"mean difference {format_number(table['mean_difference'], signed=True)}"]
    return "\n".join(lines)


def comparison_row(seed: int | str, comparison: dict[str, Any], metric: str = "auc") -> dict[str, Any]:
    """One row of the seed table from a paired comparison (`compare_predictions` or `compare_dice`).

    Example:
        >>> arm = {"dice": 0.7, "bootstrap_ci": [0.6, 0.8]}
        >>> comparison_row(0, {"n_patients": 20, "a": arm, "b": arm, "difference": {"dice": 0.0,
        ...                "bootstrap_ci": [-0.1, 0.1], "p_value": 1.0}}, "dice")["scratch"]["dice"]
        0.7
    """
    return {"seed": seed, "patients": comparison["n_patients"],
            **{arm: {metric: comparison[key][metric], "bootstrap_ci": comparison[key]["bootstrap_ci"]}
               for arm, key in (("pretrained", "a"), ("scratch", "b"))},
            "difference": {key: comparison["difference"][key] for key in (metric, "bootstrap_ci", "p_value")}}
