"""The allowed values of every config key that takes one of a fixed set: the one place to add a value.

Kept apart from the schema (and free of imports) so that the command line can offer them as choices without
loading pydantic.

Example:
    >>> CHOICES["cv.aggregate"]
    ('mean', 'max', 'noisy_or')
"""
from __future__ import annotations

CHOICES: dict[str, tuple[str, ...]] = {
    "task": ("classification", "segmentation", "multilabel"),
    "data.layout": ("auto", "class-folders", "csv", "msd", "unlabelled"),
    "data.cache": ("memory", "disk"),
    "model.stem": ("stride2", "monai"),
    "model.pool": ("avg", "max", "avgmax"),
    "model.head": ("pool", "lesion_map"),
    "transforms.intensity": ("percentile", "minmax", "foreground", "none"),
    "transforms.fit": ("resize", "pad"),
    "train.strategy": ("full", "linear_probe", "freeze_unfreeze"),
    "train.optimizer": ("adamw", "sgd"),
    "train.schedule": ("cosine", "onecycle", "constant"),
    "train.imbalance": ("loss", "sampler", "none"),
    "train.precision": ("auto", "bf16", "fp32"),
    "seg.loss": ("dice_ce", "dice"),
    "cv.aggregate": ("mean", "max", "noisy_or"),
    "cv.parallel": ("folds", "ddp"),
    "explain.method": ("auto", "verified", "gradxlocal", "gradient", "gradxinput", "smoothgrad", "integrated_gradients",
                       "occlusion", "gradcam", "gradcampp", "layercam", "hirescam", "voxel_map"),
}
# The sources of `model.weights` (before the colon) and the libraries backbones come from, for `medtl weights list`.
WEIGHT_SOURCES = ("none", "imagenet", "medicalnet", "txv", "hf", "file", "medtl")
BACKBONE_FAMILIES = ("torchvision", "monai", "i3d", "timm")
EXPORT_FORMATS = ("onnx", "torchscript", "bundle")  # `medtl export --format`
