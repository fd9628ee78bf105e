"""A trained classifier read back from disk: a `medtl train` run, a `medtl cv` run (its fold models as an
ensemble) or a model.safetensors file next to its model.json and config.yaml."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from medtl.config import ExperimentConfig
from medtl.engine.training.model_files import load_model_file
from medtl.report import read_cohort_summary
from medtl.run_folder import MODEL_FILE, MODEL_INFO, RunFolder, read_json, target_class

EXPECTED = (
    "a `medtl train` run folder (model.safetensors, model.json, config.yaml), a `medtl cv` run folder "
    "(config.yaml, cv_summary.json, fold_<k>/model.safetensors) or a model.safetensors file with model.json and "
    "config.yaml beside it"
)
TRAIN_THRESHOLD = 0.5  # a single trained model has no held-out data to tune a threshold on: the argmax rule


@dataclass(frozen=True)
class TrainedModel:
    """What `load_trained_model` found: the config the model was trained with, its classes, its weight files (several
    for a cv run, whose class probabilities are averaged) and how its patients are called.

    Example:
        >>> trained = load_trained_model("runs/demo")  # doctest: +SKIP
        >>> trained.kind, len(trained.weights), trained.threshold  # doctest: +SKIP
        ('cv run', 5, 0.43)
    """

    source: Path
    kind: str
    cfg: ExperimentConfig
    classes: list[str]
    positive: str | None
    weights: list[Path]
    threshold: float
    aggregate: str

    @property
    def folder(self) -> Path:
        """The run folder (the model file's folder for a bare model file)."""
        return self.source.parent if self.source.is_file() else self.source

    @property
    def target(self) -> str:
        """The class whose probability the report and the saliency maps follow: the positive class, else the last."""
        return target_class(self.classes, self.positive)

    def describe(self) -> str:
        """Which model predicts, in words and without file paths (reports never show paths).

        Example:
            >>> load_trained_model("runs/demo").describe()  # doctest: +SKIP
            'ensemble of the 5 fold models (resnet18) of a `medtl cv` run; probabilities and saliency maps ...'
        """
        name = self.cfg["model.backbone"]
        if len(self.weights) > 1:
            return (f"ensemble of the {len(self.weights)} fold models ({name}) of a `medtl cv` run; probabilities "
                    "and saliency maps averaged over its models")
        return {"train run": f"{name} model of a `medtl train` run", "model file": f"{name} model file",
                "cv run": f"{name} model of a one-fold `medtl cv` run"}[self.kind]

    def load(self) -> list[nn.Module]:
        """The models in eval mode, weights read strictly (every tensor must match the configured backbone).

        Example:
            >>> [type(m).__name__ for m in load_trained_model("runs/final").load()]  # doctest: +SKIP
            ['ResNet']
        """
        return [load_model_file(self.cfg, path, len(self.classes)) for path in self.weights]


def load_trained_model(model_or_run: str | Path) -> TrainedModel:
    """Find the trained classifier at `model_or_run` (see the module docstring); a clear error otherwise.

    A train run or model file calls patients at probability 0.5; a cv run at the threshold its cv_summary.json
    holds. Both combine images per patient with the run's `cv.aggregate`.

    Example:
        >>> load_trained_model("runs/final").classes  # doctest: +SKIP
        ['normal', 'nodule']
    """
    path = Path(model_or_run).absolute()
    if path.is_file() and path.suffix == ".safetensors":
        return _from_model_file(path, path)
    if (path / MODEL_FILE).is_file():
        return _from_model_file(path / MODEL_FILE, path)
    if RunFolder(path).summary.is_file():
        return _from_cv_run(RunFolder(path))
    raise ValueError(f"{path}: expected {EXPECTED}")


def _from_model_file(model: Path, source: Path) -> TrainedModel:
    info_path, config = model.parent / MODEL_INFO, model.parent / "config.yaml"
    for needed in (info_path, config):
        if not needed.is_file():
            raise ValueError(f"{model}: {needed.name} is missing beside it; expected {EXPECTED}")
    cfg = _classification_config(config)
    info = read_json(info_path)
    if not isinstance(info.get("classes"), list) or len(info["classes"]) < 2:
        raise ValueError(f"{info_path}: needs 'classes', a list of at least two class names")
    if info.get("backbone", cfg["model.backbone"]) != cfg["model.backbone"]:
        raise ValueError(f"{info_path}: backbone {info['backbone']!r} differs from {config}'s "
                         f"model.backbone {cfg['model.backbone']!r}")
    return TrainedModel(source, "model file" if source == model else "train run", cfg, list(info["classes"]),
                        info.get("positive"), [model], TRAIN_THRESHOLD, cfg["cv.aggregate"])


def _from_cv_run(run: RunFolder) -> TrainedModel:
    if not run.config.is_file():
        raise ValueError(f"{run.config}: missing; expected {EXPECTED}")
    cfg = _classification_config(run.config)
    summary = run.read_summary()
    folds = run.fold_models()
    if not folds:
        raise ValueError(f"{run.root}: no fold_<k>/{MODEL_FILE}; is the `medtl cv` run finished?")
    if "classes" not in summary:
        raise ValueError(f"{run.summary}: has no 'classes'; is {run.root} a classification run?")
    cohort = read_cohort_summary(summary)
    return TrainedModel(run.root, "cv run", cfg, list(summary["classes"]), cohort.positive, folds, cohort.threshold,
                        cohort.aggregate)


def _classification_config(path: Path) -> ExperimentConfig:
    cfg = ExperimentConfig.from_yaml(path)
    if cfg["task"] != "classification":
        raise ValueError(f"{path}: task is {cfg['task']!r}; medtl predict applies classification models")
    return cfg

