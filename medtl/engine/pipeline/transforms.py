"""MONAI dictionary pipelines built from the config and the backbone's `BackboneSpec`.

Three parts, so that decoding happens once per case and augmentation stays random per epoch:
`preprocess` (read, intensity scaling, resize: cached), `augment` (training only), `finish` (normalise to
the backbone's pretraining statistics, to tensors).
"""
from __future__ import annotations

from typing import Any, Hashable, Mapping, Sequence

import numpy as np
from monai import transforms as T

from medtl.io import ReadError, read_image


class LoadCased(T.MapTransform):
    """Read a case's `image` (and `mask`, when present) with `medtl.io.read_image`, channel first.

    A DICOM series is picked by the case's `series` uid, which is then dropped, so cases with and without one
    batch together. Arrays follow medtl.io's conventions (2D as displayed, 3D canonical RAS), so masks and
    images share one geometry. An image holding NaN or infinite values raises `ReadError` naming its file.

    Example:
        >>> LoadCased()({"image": "chest.dcm"})["image"].shape  # doctest: +SKIP
        (1, 512, 512)
    """

    def __init__(self, keys: Sequence[str] = ("image", "mask")):
        super().__init__(keys, allow_missing_keys=True)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        out = dict(data)
        series = out.pop("series", None)
        for key in self.key_iterator(out):
            image = read_image(out[key], series_uid=series if key == "image" else None)
            non_finite = int(np.size(image.array) - np.count_nonzero(np.isfinite(image.array)))
            if non_finite:
                raise ReadError(out[key], f"{non_finite} values are NaN or infinite; a model cannot learn from them")
            out[key] = image.array[None].astype(np.float32)
        if "mask" in out:
            out["mask"] = (out["mask"] > 0).astype(np.float32)
        return out


def intensity_transform(kind: str) -> T.MapTransform | None:
    """Per-image intensity scaling to about [0, 1] before the backbone's own normalisation.

    Example:
        >>> intensity_transform("percentile").__class__.__name__
        'ScaleIntensityRangePercentilesd'
    """
    if kind == "percentile":
        return T.ScaleIntensityRangePercentilesd("image", lower=0.5, upper=99.5, b_min=0.0, b_max=1.0, clip=True)
    if kind == "minmax":
        return T.ScaleIntensityd("image", minv=0.0, maxv=1.0)
    if kind == "none":
        return None
    raise ValueError(f"transforms.intensity must be one of {{'percentile', 'minmax', 'none'}}. Got {kind!r} instead.")


def preprocess(input_size: Sequence[int], intensity: str, with_mask: bool) -> T.Compose:
    """Deterministic part: read, scale intensities, resize to the model input (masks with nearest neighbour).

    Example:
        >>> len(preprocess((64, 64), "percentile", with_mask=False).transforms)
        3
    """
    keys = ("image", "mask") if with_mask else ("image",)
    modes = ("area", "nearest") if with_mask else ("area",)
    steps = [LoadCased(keys), intensity_transform(intensity), T.Resized(keys, spatial_size=tuple(input_size), mode=modes)]
    return T.Compose([s for s in steps if s is not None])


def augment(spatial_dims: int, with_mask: bool) -> T.Compose:
    """Training-time augmentation: small affine jitter, contrast and noise; no flips (anatomy is lateralised).

    Example:
        >>> augment(2, with_mask=False).transforms[0].__class__.__name__
        'RandAffined'
    """
    keys = ("image", "mask") if with_mask else ("image",)
    modes = ("bilinear", "nearest") if with_mask else ("bilinear",)
    angle = np.deg2rad(8.0)
    return T.Compose(
        [
            T.RandAffined(
                keys,
                prob=0.7,
                rotate_range=(angle,) if spatial_dims == 2 else (angle, angle, angle),
                scale_range=(0.08,) * spatial_dims,
                translate_range=(0.04,) * spatial_dims,
                mode=modes,
                padding_mode="border",
            ),
            T.RandAdjustContrastd("image", prob=0.3, gamma=(0.8, 1.25)),
            T.RandGaussianNoised("image", prob=0.3, std=0.02),
        ]
    )


def finish(mean: float, std: float, with_mask: bool) -> T.Compose:
    """Normalise to the backbone's pretraining statistics and convert to tensors.

    Example:
        >>> finish(0.449, 0.226, with_mask=False).transforms[0].__class__.__name__
        'NormalizeIntensityd'
    """
    keys = ("image", "mask") if with_mask else ("image",)
    return T.Compose([T.NormalizeIntensityd("image", subtrahend=mean, divisor=std), T.EnsureTyped(keys, track_meta=False)])
