"""MONAI dictionary pipelines built from the config and the backbone's `BackboneSpec`.

Three parts, so that decoding happens once per case and augmentation stays random per epoch:
`preprocess` (read, resample to a common voxel spacing, intensity scaling, resize: cached), `augment`
(training only), `finish` (normalise to the backbone's pretraining statistics, to tensors).
"""
from __future__ import annotations

from typing import Any, Hashable, Mapping, Sequence

import numpy as np
from monai import transforms as T
from monai.data import MetaTensor

from medtl.io import ReadError, read_image


class LoadCased(T.MapTransform):
    """Read a case's `image` (and `mask`, when present) with `medtl.io.read_image`, channel first; with
    `spacing` (mm per axis), volumes are resampled to it (MONAI `Spacing`: trilinear, masks nearest), so
    cohorts scanned at other resolutions or slice thicknesses reach the resize with one physical voxel shape.

    A DICOM series is picked by the case's `series` uid, which is then dropped, so cases with and without one
    batch together. Arrays follow medtl.io's conventions (2D as displayed, 3D canonical RAS), so masks and
    images share one geometry. An image holding NaN or infinite values raises `ReadError` naming its file.

    Example:
        >>> LoadCased()({"image": "chest.dcm"})["image"].shape  # doctest: +SKIP
        (1, 512, 512)
    """

    def __init__(self, keys: Sequence[str] = ("image", "mask"), spacing: Sequence[float] | None = None):
        super().__init__(keys, allow_missing_keys=True)
        self.spacing = None if spacing is None else tuple(float(s) for s in spacing)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        out = dict(data)
        series = out.pop("series", None)
        for key in self.key_iterator(out):
            image = read_image(out[key], series_uid=series if key == "image" else None)
            non_finite = int(np.size(image.array) - np.count_nonzero(np.isfinite(image.array)))
            if non_finite:
                raise ReadError(out[key], f"{non_finite} values are NaN or infinite; a model cannot learn from them")
            array = image.array[None].astype(np.float32)
            if self.spacing is not None:
                array = self._resample(array, image.spacing, "nearest" if key == "mask" else "bilinear", out[key])
            out[key] = array
        if "mask" in out:
            out["mask"] = (out["mask"] > 0).astype(np.float32)
        return out

    def _resample(self, array: np.ndarray, spacing: Sequence[float], mode: str, source: Any) -> np.ndarray:
        if len(spacing) != len(self.spacing):
            raise ValueError(f"{source}: transforms.spacing {list(self.spacing)} has {len(self.spacing)} axes but "
                             f"the image has {len(spacing)}")
        affine = np.diag([*spacing, 1.0])  # medtl.io's arrays are axis-aligned (canonical RAS for volumes)
        resampled = T.Spacing(pixdim=self.spacing, mode=mode)(MetaTensor(array, affine=affine))
        return np.asarray(resampled.array, dtype=np.float32)


class ScaleForegroundd(T.MapTransform):
    """Per-volume z-score over the foreground: the voxels brighter than the volume's mean (the head, not the
    air around it), so the scaling depends neither on how much background a field of view holds nor on a
    scanner's intensity units. MONAI's `NormalizeIntensity(nonzero=True)` needs a background of exact zeros,
    which magnitude MRI does not have; hence this transform.

    Example:
        >>> volume = np.zeros((1, 8, 8, 8), np.float32); volume[0, 2:6, 2:6, 2:6] = [[[100.0, 300.0]*2]*4]*4
        >>> scaled = ScaleForegroundd("image")({"image": volume})["image"]
        >>> [round(float(v), 2) for v in (scaled[0, 2, 2, 2], scaled[0, 2, 2, 3], scaled[0, 0, 0, 0])]
        [-1.0, 1.0, -2.0]
    """

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        out = dict(data)
        for key in self.key_iterator(out):
            image = np.asarray(out[key], dtype=np.float32)
            foreground = image[image > image.mean()]
            mean, std = (float(foreground.mean()), float(foreground.std())) if foreground.size else (0.0, 1.0)
            out[key] = (image - mean) / max(std, 1e-6)
        return out


def intensity_transform(kind: str) -> T.MapTransform | None:
    """Per-image intensity scaling before the backbone's own normalisation: to about [0, 1] ("percentile",
    "minmax"), or a z-score over the image's foreground ("foreground", for MRI; see `ScaleForegroundd`).

    Example:
        >>> intensity_transform("percentile").__class__.__name__
        'ScaleIntensityRangePercentilesd'
    """
    if kind == "percentile":
        return T.ScaleIntensityRangePercentilesd("image", lower=0.5, upper=99.5, b_min=0.0, b_max=1.0, clip=True)
    if kind == "minmax":
        return T.ScaleIntensityd("image", minv=0.0, maxv=1.0)
    if kind == "foreground":
        return ScaleForegroundd("image")
    if kind == "none":
        return None
    raise ValueError("transforms.intensity must be one of {'percentile', 'minmax', 'foreground', 'none'}. "
                     f"Got {kind!r} instead.")


def preprocess(input_size: Sequence[int], intensity: str, with_mask: bool,
               spacing: Sequence[float] | None = None, fit: str = "resize") -> T.Compose:
    """Deterministic part: read (resampled to `spacing` mm when given), scale intensities, then bring to the
    model input (see `fit_transform`; masks with nearest neighbour).

    Example:
        >>> len(preprocess((64, 64), "percentile", with_mask=False).transforms)
        3
    """
    keys = ("image", "mask") if with_mask else ("image",)
    steps = [LoadCased(keys, spacing), intensity_transform(intensity), fit_transform(keys, input_size, fit)]
    return T.Compose([s for s in steps if s is not None])


def fit_transform(keys: Sequence[str], input_size: Sequence[int], fit: str) -> T.MapTransform:
    """How an image reaches the model's input size: "resize" scales it to fill the input (the field of view
    kept, voxel size changed), "pad" pads or crops it about its centre (the voxel size of `transforms.spacing`
    kept, so a lesion of so many millimetres covers the same voxels in every cohort; padding repeats the edge).

    Example:
        >>> tuple(fit_transform(("image",), (8, 8, 8), "pad")({"image": np.ones((1, 4, 12, 8))})["image"].shape)
        (1, 8, 8, 8)
    """
    if fit == "resize":
        modes = ("area", "nearest")[: len(keys)]
        return T.Resized(keys, spatial_size=tuple(input_size), mode=modes)
    if fit == "pad":
        return T.ResizeWithPadOrCropd(keys, spatial_size=tuple(input_size), mode="edge")
    raise ValueError(f"transforms.fit must be one of {{'resize', 'pad'}}. Got {fit!r} instead.")


def augment(spatial_dims: int, with_mask: bool) -> T.Compose:
    """Training-time augmentation: small affine jitter, contrast and noise. 2D images are never flipped (a chest
    is lateralised); volumes are flipped left-right half of the time (axis 0 of medtl's RAS arrays), since a
    brain lesion is as likely on either side.

    Example:
        >>> [t.__class__.__name__ for t in augment(3, with_mask=False).transforms]
        ['RandAffined', 'RandFlipd', 'RandAdjustContrastd', 'RandGaussianNoised']
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
            *([T.RandFlipd(keys, prob=0.5, spatial_axis=0)] if spatial_dims == 3 else []),
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
