"""`create_model`: pick a backbone, a task and a weights source; get a model that says what it loaded."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from torch import nn

from medtl.config_choices import CHOICES
from medtl.models.lesion_map import MAP_HEAD, LesionMapClassifier
from medtl.models.registry import build_backbone, get_spec
from medtl.models.segmentation import BackboneUNet
from medtl.models.checkpoints.sources import parse_weights, read_weights, spec_for_weights
from medtl.models.checkpoints.weights import load_weights

TASKS = ("classification", "segmentation")
HEADS = CHOICES["model.head"]
UNET_PREFIXES = ("encoder.backbone.", "head.")


def create_model(name: str, task: str = "classification", in_chans: int = 1, num_classes: int = 2,
                 weights: str = "none", allow_mismatch: bool = False, stem: str = "stride2",
                 input_size: Sequence[int] | None = None, pool: str = "avg",
                 encoder_depth: int | None = None, head: str = "pool") -> nn.Module:
    """A backbone from the registry, adapted to `in_chans` and `num_classes`, with `weights` loaded.

    `weights`: "none", "imagenet", "medicalnet", "txv:NAME", "hf:ORG/REPO[:FILE]", "file:PATH" or "medtl:NAME"
    (those in `spec.weight_sources`; `txv:` also sets the spec's input convention, see `spec_for_weights`);
    files are read from local caches only (see `medtl weights list`). Classification models return logits
    (B, num_classes); segmentation models are U-Nets on the backbone returning (B, num_classes, *spatial).
    The model carries `model.spec` (its `BackboneSpec`, module paths relative to the model) and
    `model.load_report` (a `LoadReport`, None for weights="none"). `stem` and `pool` apply to the MONAI 3D
    ResNets: stem "stride2" (default, MedicalNet's) or "monai"; pool, the global pooling before the head, "avg"
    (default), "max" or "avgmax" (see `medtl.models.monai_3d.build_monai`). `input_size` (the transforms' size) builds transformers whose
    position embeddings are tied to a grid at that size (default: the size the weights expect); pretrained ones
    are resampled to it. `encoder_depth` (U-Nets only) keeps the U-Net's encoder to the backbone's first
    feature layers (`BackboneUNet`). `head` (classification only): "pool", the backbone's own global pooling
    and linear head, or "lesion_map", a U-Net whose voxel log-probabilities `pool` pools into the case logits
    (`LesionMapClassifier`). Weights stored from a U-Net (`encoder.backbone.*` and `head.*` keys) load whole
    into a U-Net (segmentation, lesion_map) and by their encoder into any other model.

    Example:
        >>> model = create_model("resnet18", in_chans=1, num_classes=3)
        >>> model.spec.classifier, model.fc.out_features, model.load_report
        ('fc', 3, None)
    """
    spec = get_spec(name)
    for argument, value, allowed in (("task", task, TASKS), ("head", head, HEADS)):
        if value not in allowed:
            raise ValueError(f"{argument} must be one of {set(allowed)}. Got {value!r} instead.")
    if head != "pool" and task != "classification":
        raise ValueError(f"head={head!r} is a classification head; task {task!r} takes head='pool'.")
    for argument, value in (("in_chans", in_chans), ("num_classes", num_classes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{argument} must be a positive int. Got {value!r} instead.")
    source, _ = parse_weights(spec, weights)
    pretrained = read_weights(spec, weights) if source != "none" else None
    expected = spec_for_weights(spec, weights)  # the input the weights expect, which the transforms read
    unet = task == "segmentation" or head == "lesion_map"
    backbone = build_backbone(spec, in_chans, num_classes, stem, input_size or expected.input_size,
                              "avg" if unet else pool)
    state, where = pretrained or ({}, "")
    whole = unet and _holds_unet(state)
    report = None
    if pretrained is not None and not whole:
        report = load_weights(backbone, state, spec, where, allow_mismatch)
    if head == "lesion_map":
        model = LesionMapClassifier(backbone, expected, in_chans, num_classes, encoder_depth, pool)
        model_spec = replace(expected.within("encoder.backbone", MAP_HEAD),  # the deepest layer kept
                             target_layer=f"encoder.backbone.{model.encoder.layers[-1]}")
    elif task == "segmentation":
        model = BackboneUNet(backbone, expected, in_chans, num_classes, encoder_depth)
        model_spec = expected.within("encoder.backbone", "head")
    else:
        model, model_spec = backbone, expected
    if whole:
        report = load_weights(model, state, model_spec, where, allow_mismatch)
    model.spec = model_spec
    model.load_report = report
    return model


def _holds_unet(state: dict) -> bool:
    """Whether a state dict is a whole U-Net's (`BackboneUNet`): encoder and decoder keys both present."""
    return all(any(key.startswith(prefix) for key in state) for prefix in UNET_PREFIXES)
