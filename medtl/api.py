"""The Python API: one function per `medtl` verb, named `run_<verb>`, taking what the verb takes.

Functions that read a config accept a YAML path, an `ExperimentConfig` or a dict of keys, plus `overrides`
(`--set` assignments). They validate the config and check that the weights and data are there before anything
is read or written. `medtl.run_predict`, `run_explain`, `run_report`, `run_compare`, `run_synth`, `run_demo`
and `run_weights_list` are re-exported from `medtl` as well (see `medtl.__init__`).

Example:
    >>> import medtl
    >>> medtl.run_cv("configs/demo_xray.yaml", "runs/cxr", overrides=["data.root=data/cxr"])  # doctest: +SKIP
    CVResult(run_dir=PosixPath('runs/cxr'), ...)
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medtl.config import ConfigLike, ExperimentConfig
from medtl.preflight import check_ready

if TYPE_CHECKING:
    from medtl.data.case_table import CaseTable
    from medtl.engine.workflows.classifier import Classifier
    from medtl.engine.workflows.cv import CVResult
    from medtl.engine.workflows.lr_find import LRFindResult
    from medtl.evaluate.splits import Splits


# Where each verb writes when no folder is given.
DEFAULT_OUT = {"cv": "runs/{name}", "train": "runs/{name}_final", "lr_find": "runs/{name}_lr_find"}


def default_out(cfg: ExperimentConfig, verb: str) -> Path:
    """The run folder `verb` writes to when none is given.

    Example:
        >>> default_out(ExperimentConfig.from_dict({"name": "cxr"}), "train")
        PosixPath('runs/cxr_final')
    """
    return Path(DEFAULT_OUT[verb].format(name=cfg["name"]))


def run_scan(root: str | Path, layout: str = "auto", manifest: str | Path | None = None) -> "CaseTable":
    """Scan a dataset folder into a `CaseTable` (`medtl scan`).

    Example:
        >>> import medtl, tempfile
        >>> data = medtl.run_synth("xray", tempfile.mkdtemp(), patients=4, size=32)
        >>> medtl.run_scan(data, layout="csv").classes
        ['nodule', 'normal']
    """
    from medtl.data.scan import scan_folder

    return scan_folder(root, layout=layout, manifest=manifest)


def run_synth(kind: str, out: str | Path, patients: int | None = None, seed: int = 0, **options: Any) -> Path:
    """Write a synthetic cohort (`medtl synth xray|mri`): `kind` "xray" (`medtl.synth.make_xray`) or "mri"
    (`make_mri`); `options` go to that function. Returns the cohort folder.

    Example:
        >>> import tempfile
        >>> (run_synth("mri", tempfile.mkdtemp(), patients=2, shape=(16, 16, 16)) / "cases.csv").is_file()
        True
    """
    from medtl.synth import make_mri, make_xray

    makers = {"xray": make_xray, "mri": make_mri}
    if kind not in makers:
        raise ValueError(f"kind must be one of {set(makers)}. Got {kind!r} instead.")
    if patients is not None:
        options["patients"] = patients
    return makers[kind](out, seed=seed, **options)


def run_cv(config: ConfigLike, out: str | Path | None = None, *, overrides: Sequence[str] = (),
           overwrite: bool = False, resume: bool = False, baseline: str | None = None,
           table: "CaseTable | None" = None, splits: "Splits | None" = None, progress: bool = True) -> "CVResult":
    """Patient-grouped cross-validation (`medtl cv`) into `out` (default `runs/<name>`). `baseline="scratch"`
    also trains from scratch on identical folds into `out/baseline_scratch` and writes the paired comparison to
    `out/compare_baseline_scratch.json`. `table` replaces scanning `data.root`; `splits` reuses another run's folds.

    Example:
        >>> result = run_cv({"data": {"root": "data/cxr"}}, "runs/cxr")  # doctest: +SKIP
        >>> result.pooled_auc                                            # doctest: +SKIP
        0.87
    """
    if baseline not in (None, "scratch"):
        raise ValueError(f"baseline must be None or 'scratch'. Got {baseline!r} instead.")
    cfg = _ready(config, overrides, needs_data=table is None)  # before torch and the engine are imported
    out = out or default_out(cfg, "cv")
    from medtl.engine.workflows.baseline import run_with_scratch_baseline
    from medtl.engine.workflows.cv import run_cv as cross_validate

    if baseline == "scratch":
        return run_with_scratch_baseline(cfg, out, overwrite=overwrite, progress=progress)[0]
    return cross_validate(cfg, out, overwrite=overwrite, resume=resume, table=table, splits=splits,
                          progress=progress)


def run_train(config: ConfigLike, out: str | Path | None = None, *, overrides: Sequence[str] = (),
              overwrite: bool = False, resume: bool = False, progress: bool = True) -> "Classifier":
    """One model on every case (`medtl train`) into `out` (default `runs/<name>_final`); returns the fitted
    `Classifier`.

    Example:
        >>> clf = run_train("configs/demo_xray.yaml", overrides=["data.root=data/cxr"])  # doctest: +SKIP
        >>> clf.classes_                                                                 # doctest: +SKIP
        ['nodule', 'normal']
    """
    cfg = _ready(config, overrides)
    from medtl.engine.workflows.train_run import run_train as train_one

    return train_one(cfg, out or default_out(cfg, "train"), overwrite=overwrite, resume=resume, progress=progress)


def run_lr_find(config: ConfigLike, out: str | Path | None = None, *, overrides: Sequence[str] = (),
                start_lr: float = 1e-7, end_lr: float = 10.0, steps: int = 100,
                progress: bool = True) -> "LRFindResult":
    """The learning-rate range test (`medtl lr-find`) into `out` (default `runs/<name>_lr_find`).

    Example:
        >>> run_lr_find("configs/demo_xray.yaml", overrides=["data.root=data/cxr"]).suggestion  # doctest: +SKIP
        0.0031
    """
    cfg = _ready(config, overrides)
    from medtl.engine.workflows.lr_find import run_lr_find as range_test

    return range_test(cfg, out or default_out(cfg, "lr_find"), start_lr=start_lr, end_lr=end_lr, steps=steps,
                      progress=progress)


def run_pretrain(config: ConfigLike, *, overrides: Sequence[str] = (), name: str | None = None,
                 overwrite: bool = False, progress: bool = True) -> Path:
    """Train a backbone on a source set and store it as `medtl:<name>` (`medtl pretrain`); returns the file.

    Example:
        >>> run_pretrain("configs/pretrain_source.yaml", overrides=["data.root=data/source"])  # doctest: +SKIP
        PosixPath('/home/me/.cache/medtl/weights/synth-cxr-resnet18/model.safetensors')
    """
    cfg = _ready(config, overrides)
    from medtl.engine.workflows.pretrain import pretrain

    return pretrain(cfg, name=name, overwrite=overwrite, progress=progress)


def _ready(config: ConfigLike, overrides: Sequence[str], needs_data: bool = True) -> ExperimentConfig:
    cfg = ExperimentConfig.load(config, overrides)
    check_ready(cfg, needs_data=needs_data)
    return cfg
