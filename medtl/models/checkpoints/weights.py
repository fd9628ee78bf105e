"""Putting a state dict into a model: keys matched, tensors adapted where medtl adapts on purpose,
everything else checked, and all of it reported (never a silent `strict=False`)."""
from __future__ import annotations

import warnings
from collections.abc import Mapping

import torch
from torch import nn

from medtl.errors import WeightMismatchError
from medtl.models.adapt import adapt_input_conv
from medtl.models.inflate import inflate_kernel
from medtl.models.checkpoints.load_report import LoadReport
from medtl.models.spec import BackboneSpec
from medtl.models.timm_2d import filter_timm_checkpoint

WRAPPER_PREFIXES = ("module.", "backbone.", "encoder.")


def match_keys(state: Mapping[str, torch.Tensor], model_keys: set[str]) -> tuple[dict[str, str], list[str]]:
    """Checkpoint key -> model key, with wrapper prefixes ("module.", "backbone.", "encoder.") removed
    where that is what makes the key fit; and the checkpoint keys that fit nothing.

    Example:
        >>> match_keys({"module.conv1.weight": torch.zeros(1), "aux.w": torch.zeros(1)}, {"conv1.weight"})
        ({'module.conv1.weight': 'conv1.weight'}, ['aux.w'])
    """
    mapping: dict[str, str] = {}
    unexpected: list[str] = []
    taken: set[str] = set()
    for key in state:
        candidate = key
        while candidate not in model_keys and candidate.startswith(WRAPPER_PREFIXES):
            candidate = candidate.split(".", 1)[1]
        if candidate in model_keys and candidate not in taken:
            mapping[key] = candidate
            taken.add(candidate)
        else:
            unexpected.append(key)
    return mapping, unexpected


def load_weights(model: nn.Module, state: Mapping[str, torch.Tensor], spec: BackboneSpec, source: str,
                 allow_mismatch: bool = False) -> LoadReport:
    """Load `state` into `model` (built from `spec`) and say exactly what happened.

    medtl adapts on purpose: the first conv's (or patch embedding's) kernels to the model's input channels
    (`adapt_input_conv`), a timm transformer's position embeddings to its input size (`filter_timm_checkpoint`),
    2D kernels to 3D for `i3d:` backbones (`inflate_kernel`), and a head whose shape differs is reset.
    Any other shape mismatch, or backbone tensors the checkpoint lacks, raise `WeightMismatchError` unless
    `allow_mismatch=True`, in which case those layers keep their fresh initialisation and the report lists them.

    Example:
        >>> from torchvision.models import resnet18
        >>> from medtl.models import create_model
        >>> model = create_model("resnet18", in_chans=1, num_classes=2)
        >>> print(load_weights(model, resnet18().state_dict(), model.spec, "example").adapted[0])
        conv1: 3 -> 1 input channels (pretrained kernels summed)
    """
    target = model.state_dict()
    resampled: list[str] = []
    if spec.family == "timm":  # wrapper prefixes off first, so timm's filter finds its keys
        renamed, _ = match_keys(state, set(target))
        state, resampled = filter_timm_checkpoint(model, {renamed.get(k, k): v for k, v in state.items()})
    mapping, unexpected = match_keys(state, set(target))
    report = LoadReport(source, unexpected=unexpected, adapted=resampled)
    first_conv, head = f"{spec.first_conv}.weight", f"{spec.classifier}."
    accepted: dict[str, torch.Tensor] = {}
    inflated, head_shapes = 0, []
    for checkpoint_key, key in mapping.items():
        tensor, want = state[checkpoint_key], target[key].shape
        if spec.family == "i3d" and tensor.dim() == 4 and len(want) == 5:
            tensor, inflated = inflate_kernel(tensor, want[2]), inflated + 1
        if key == first_conv and tensor.shape[1] != want[1] and tensor.shape[2:] == want[2:]:
            report.adapted.append(_channel_note(spec.first_conv, tensor.shape[1], want[1]))
            tensor = adapt_input_conv(tensor, want[1])
        if tensor.shape == want:
            accepted[key] = tensor.to(target[key].dtype)
        elif key.startswith(head):
            head_shapes.append((tuple(tensor.shape), tuple(want)))
        else:
            report.mismatched.append((key, tuple(want), tuple(tensor.shape)))
    report.loaded = list(accepted)
    # BatchNorm's step counter holds no learned value and older torchvision checkpoints lack it.
    matched = set(mapping.values())
    report.missing = [k for k in target if k not in matched and not k.endswith("num_batches_tracked")]
    if inflated:
        report.adapted.append(f"{inflated} 2D kernels inflated to 3D (repeated along depth, divided by depth)")
    if head_shapes:
        report.adapted.append(f"head {spec.classifier!r} reset (fresh init): checkpoint shape "
                              f"{head_shapes[0][0]} -> model {head_shapes[0][1]}")
    elif any(k.startswith(head) for k in report.missing):
        report.adapted.append(f"head {spec.classifier!r} reset (fresh init): not in checkpoint")
    _check(report, spec, allow_mismatch)
    model.load_state_dict({**target, **accepted})
    if report.unexpected:
        warnings.warn(f"{source}: {len(report.unexpected)} checkpoint tensors not used, e.g. "
                      f"{report.unexpected[:3]} (see the model's load_report)", stacklevel=2)
    return report


def _channel_note(path: str, pretrained: int, wanted: int) -> str:
    how = "pretrained kernels summed" if wanted == 1 else f"kernels tiled and scaled by {pretrained}/{wanted}"
    return f"{path}: {pretrained} -> {wanted} input channels ({how})"


def _check(report: LoadReport, spec: BackboneSpec, allow_mismatch: bool) -> None:
    if not report.loaded:
        raise WeightMismatchError(f"{report.source}: no tensor of the checkpoint fits {spec.name} "
                                  f"(checkpoint keys e.g. {report.unexpected[:5]}).")
    backbone_missing = [k for k in report.missing if not k.startswith(f"{spec.classifier}.")]
    if (report.mismatched or backbone_missing) and not allow_mismatch:
        raise WeightMismatchError(f"{report}\n{spec.name}: these backbone tensors do not fit; pass "
                                  "allow_mismatch=True to keep them at their fresh initialisation.")
