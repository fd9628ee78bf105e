"""The schema of a medtl config: every key with its type, default, allowed values and help, in one place.

`ExperimentConfig` validates against it, `--set` values are read by each key's declared type, and
`configs/defaults.yaml` is rendered from it (`python -m medtl.config_schema > medtl/configs/defaults.yaml`; a test
checks that the two agree). A new allowed value is added to `medtl.config_choices.CHOICES` only. pydantic does
the validation; this module only declares the keys and renders them.

Example:
    >>> ExperimentSchema().train.epochs, CHOICES["explain.method"][0]
    (5, 'auto')
"""
from __future__ import annotations

import textwrap
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from medtl.config_choices import CHOICES

DEVICE_PATTERN = r"auto|cpu|mps|cuda(:\d+)?"


def _text(value: Any) -> Any:
    """YAML reads `positive_label: 1` or `name: 2024` as numbers; for a text key they mean the text."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


Text = Annotated[str, BeforeValidator(_text)]
Size = Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=2, max_length=3)]
Spacing = Annotated[list[Annotated[float, Field(gt=0)]], Field(min_length=2, max_length=3)]


def _choice(dotted: str) -> Any:
    return Literal[CHOICES[dotted]]  # type: ignore[valid-type]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)


class DataSection(_Section):
    root: Optional[Text] = Field(None, description="folder to scan")
    layout: _choice("data.layout") = Field("auto", description="how the folder is read")
    manifest: Optional[Text] = Field(None, description="CSV manifest for layout csv (default: <root>/cases.csv)")
    positive_label: Optional[Text] = Field(
        None, description="binary tasks: the positive class (default: the label that is not normal/negative)")
    cache: _choice("data.cache") = Field(
        "memory", description="preprocessed cases: memory (this run) or disk (mapped files reused across runs)")
    cache_memory_gb: Optional[float] = Field(
        None, gt=0, description="memory cohorts larger than this go to disk (null: half the machine's memory)")


class ModelSection(_Section):
    backbone: Text = Field("resnet18", description="see `medtl weights list`")
    weights: Text = Field(
        "none", description="none | imagenet | medicalnet | file:PATH | medtl:NAME | a .pth/.safetensors path")
    allow_mismatch: bool = Field(False, description="accept shape-mismatched backbone weights (reported either way)")
    weights_fallback: Optional[Text] = Field(
        None, description="medtl:NAME weights not in the cache: use these instead (e.g. none), with a warning")
    stem: _choice("model.stem") = Field(
        "stride2", description="MONAI 3D ResNets: first conv stride 2 on every axis (MedicalNet's) or 1 (MONAI's)")
    pool: _choice("model.pool") = Field(
        "avg", description="MONAI 3D ResNets (and model.head lesion_map, any backbone, max or avg): global pooling "
                           "before the head; max or avgmax keep a small bright spot")
    head: _choice("model.head") = Field(
        "pool", description="classification: pool (global pooling + linear) or lesion_map (a U-Net of "
                            "seg.encoder_depth whose voxel log-probabilities model.pool pools into the case logits, "
                            "under one learned temperature and shift)")


class TransformsSection(_Section):
    input_size: Optional[Size] = Field(None, description="e.g. [224, 224]; default: the backbone's input size")
    intensity: _choice("transforms.intensity") = Field(
        "percentile", description="percentile maps the 0.5-99.5 percentiles to 0-1; foreground: z-score over the "
                                  "voxels brighter than the volume's mean (the head)")
    spacing: Optional[Spacing] = Field(
        None, description="volumes: resample to this voxel spacing in mm (e.g. [1.5, 1.5, 3.0]) before resizing")
    fit: _choice("transforms.fit") = Field(
        "resize", description="how an image reaches input_size: resize (fill it) or pad (pad or crop about the centre, "
                              "keeping the voxel size of transforms.spacing)")
    augment: bool = Field(True, description="random affine, contrast and noise while training")


class TrainSection(_Section):
    strategy: _choice("train.strategy") = Field(
        "full", description="linear_probe trains the head on cached features; freeze_unfreeze trains the head "
                            "first, then all layers at discriminative learning rates")
    epochs: int = Field(5, ge=1)
    head_epochs: int = Field(1, ge=0, description="freeze_unfreeze: epochs with a frozen backbone first")
    batch_size: int = Field(16, ge=1)
    lr: float = Field(0.001, gt=0)
    weight_decay: float = Field(0.0001, ge=0)
    warmup_epochs: int = Field(
        0, ge=0, description="linear warm-up; with schedule onecycle, the rising part of the cycle")
    optimizer: _choice("train.optimizer") = Field("adamw", description="sgd uses Nesterov momentum 0.9")
    schedule: _choice("train.schedule") = Field(
        "cosine", description="per step; cosine decays to 1% of lr, onecycle is torch's OneCycleLR")
    layer_decay: Optional[float] = Field(
        None, gt=0, le=1, description="strategy full or freeze_unfreeze: e.g. 0.75 gives the "
                                      "block n blocks below the head lr * 0.75^n")
    imbalance: _choice("train.imbalance") = Field(
        "loss", description="rare classes: class-weighted loss, balanced draws (sampler), or neither")
    val_fraction: float = Field(
        0.0, ge=0, lt=1, description="share of training patients held out (by patient, stratified) to validate "
                                     "every epoch: val_auc (patient level) or val_dice; 0 = no validation")
    select_best: bool = Field(True, description="with validation: keep the weights of the best validation epoch")
    patience: Optional[int] = Field(
        None, ge=1, description="with validation: stop after this many epochs without improvement (null: never)")
    precision: _choice("train.precision") = Field(
        "auto", description="auto is bf16 autocast on GPUs that have it, fp32 elsewhere")
    channels_last: Optional[Union[bool, Literal["auto"]]] = Field(
        None, description="null (auto: on for 2D models on CUDA) | true | false")
    compile: bool = Field(False, description="torch.compile the model for training")
    tensorboard: bool = Field(
        False, description="log loss, lr and validation to <run>/tensorboard/ (needs the tensorboard package)")
    device: str = Field("auto", pattern=f"^({DEVICE_PATTERN})$", description="auto | cpu | cuda | cuda:N | mps")
    num_workers: Optional[int] = Field(
        None, ge=0, description="DataLoader workers; null: chosen for the machine (GPU runs: up to 8; CPU: 0)")

    @model_validator(mode="after")
    def _consistent(self) -> "TrainSection":
        if self.layer_decay is not None and self.strategy == "linear_probe":
            raise ValueError("train.layer_decay applies to train.strategy full or freeze_unfreeze. "
                             f"Got strategy {self.strategy!r}.")
        if self.patience is not None and self.val_fraction == 0:
            raise ValueError("train.patience needs a validation split: set train.val_fraction, e.g. 0.2")
        return self


class SegSection(_Section):
    patch_size: Optional[Size] = Field(
        None, description="training patch in voxels, e.g. [64, 64, 32], also the sliding-window size at "
                          "inference; null: train on whole volumes at transforms.input_size")
    patches_per_volume: int = Field(
        2, ge=1, description="random patches per volume and epoch (MONAI RandCropByPosNegLabeld)")
    positive_fraction: float = Field(0.5, ge=0, le=1, description="share of those patches centred on a lesion voxel")
    overlap: float = Field(0.25, ge=0, lt=1, description="sliding-window overlap at inference")
    loss: _choice("seg.loss") = Field("dice_ce", description="dice_ce is Dice + cross-entropy")
    encoder_depth: Optional[int] = Field(
        None, ge=1, description="the U-Net's encoder keeps the backbone's first N feature layers (null: all); "
                                "e.g. 3 for a 3D ResNet: stem, layer1, layer2 (stride 8)")


class CVSection(_Section):
    folds: int = Field(5, ge=2)
    aggregate: _choice("cv.aggregate") = Field("mean", description="image -> patient probability")
    parallel: _choice("cv.parallel") = Field(
        "folds", description="under torchrun: folds (each rank trains its own folds) or ddp (every fold over all ranks)")


class ExplainSection(_Section):
    method: _choice("explain.method") = Field(
        "auto", description="saliency method; auto: measured best per backbone family and input size "
                            "(benchmarks/SALIENCY.md)")
    cases: Optional[int] = Field(
        None, ge=0, description="null: every case gets a saliency map; or how many (highest-probability first)")
    target_layer: Optional[Text] = Field(
        "auto", description="layer a CAM method explains: auto (measured, else the backbone's own) or a module name")


class PretrainSection(_Section):
    name: Optional[Text] = Field(None, description="`medtl pretrain`: store the trained backbone as medtl:<name>")


class ExperimentSchema(_Section):
    """Every key medtl understands, with its default."""

    name: Text = Field("experiment", description="run name; the default run folder is runs/<name>")
    seed: int = Field(0, ge=0)
    task: _choice("task") = Field("classification")
    data: DataSection = Field(default_factory=DataSection)
    model: ModelSection = Field(default_factory=ModelSection)
    transforms: TransformsSection = Field(default_factory=TransformsSection)
    train: TrainSection = Field(default_factory=TrainSection)
    seg: SegSection = Field(default_factory=SegSection, description="task: segmentation")
    cv: CVSection = Field(default_factory=CVSection)
    explain: ExplainSection = Field(default_factory=ExplainSection)
    pretrain: PretrainSection = Field(default_factory=PretrainSection)


def find_field(dotted: str) -> tuple[type[BaseModel], str] | None:
    """The model class holding `dotted` and the field's name there, or None for an unknown key.

    Example:
        >>> find_field("train.lr")[0].__name__, find_field("train.lrr")
        ('TrainSection', None)
    """
    model: type[BaseModel] = ExperimentSchema
    *sections, leaf = dotted.split(".")
    for part in sections:
        field = model.model_fields.get(part)
        section = getattr(field, "annotation", None)
        if not (isinstance(section, type) and issubclass(section, BaseModel)):
            return None
        model = section
    return (model, leaf) if leaf in model.model_fields else None


def render_defaults(width: int = 118, column: int = 32) -> str:
    """configs/defaults.yaml: every key with its default, its allowed values and its help as a comment.

    Example:
        >>> "  method: auto" in render_defaults()
        True
    """
    import yaml

    lines = ["# Every key medtl understands, with its default. A config file overrides any subset of them.",
             "# Rendered from medtl/config_schema.py (python -m medtl.config_schema); edit that file, not this one."]

    def emit(model: type[BaseModel], instance: BaseModel, indent: str, prefix: str) -> None:
        for key, field in model.model_fields.items():
            value = getattr(instance, key)
            choices = CHOICES.get(prefix + key)
            help_text = " | ".join(choices) + (f": {field.description}" if field.description else "") \
                if choices else (field.description or "")
            if isinstance(value, BaseModel):
                head, help_text = f"{indent}{key}:", field.description or ""
            else:
                head = f"{indent}{key}: {yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"
            wrapped = textwrap.wrap(help_text, width - column - 2) or [""]
            lines.append(f"{head:<{column}}# {wrapped[0]}".rstrip() if help_text else head)
            lines.extend(f"{'':<{column}}# {rest}" for rest in wrapped[1:])
            if isinstance(value, BaseModel):
                emit(type(value), value, indent + "  ", f"{prefix}{key}.")

    emit(ExperimentSchema, ExperimentSchema(), "", "")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_defaults(), end="")
