"""`create_model`: pick a backbone, a task and a weights source; get a model that says what it loaded."""
from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from medtl.models.registry import build_backbone, get_spec
from medtl.models.segmentation import BackboneUNet
from medtl.models.checkpoints.sources import parse_weights, read_weights, spec_for_weights
from medtl.models.checkpoints.weights import load_weights

TASKS = ("classification", "segmentation")


def create_model(name: str, task: str = "classification", in_chans: int = 1, num_classes: int = 2,
                 weights: str = "none", allow_mismatch: bool = False, stem: str = "stride2",
                 input_size: Sequence[int] | None = None, pool: str = "avg",
                 encoder_depth: int | None = None) -> nn.Module:
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
    are resampled to it. `encoder_depth` (segmentation only) keeps the U-Net's encoder to the backbone's first
    feature layers (`BackboneUNet`).

    Example:
        >>> model = create_model("resnet18", in_chans=1, num_classes=3)
        >>> model.spec.classifier, model.fc.out_features, model.load_report
        ('fc', 3, None)
    """
    spec = get_spec(name)
    if task not in TASKS:
        raise ValueError(f"task must be one of {set(TASKS)}. Got {task!r} instead.")
    for argument, value in (("in_chans", in_chans), ("num_classes", num_classes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{argument} must be a positive int. Got {value!r} instead.")
    source, _ = parse_weights(spec, weights)
    pretrained = read_weights(spec, weights) if source != "none" else None
    expected = spec_for_weights(spec, weights)  # the input the weights expect, which the transforms read
    backbone = build_backbone(spec, in_chans, num_classes, stem, input_size or expected.input_size, pool)
    report = None
    if pretrained is not None:
        state, where = pretrained
        report = load_weights(backbone, state, spec, where, allow_mismatch)
    spec = expected
    if task == "classification":
        model, model_spec = backbone, spec
    else:
        model, model_spec = BackboneUNet(backbone, spec, in_chans, num_classes, encoder_depth), spec.within("encoder.backbone", "head")
    model.spec = model_spec
    model.load_report = report
    return model
