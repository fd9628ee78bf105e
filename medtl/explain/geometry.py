"""Bring a heatmap from the model's input grid back to the image's array, and from there to the source file's grid."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import nibabel as nib
import numpy as np
import torch
from monai.data.utils import compute_shape_offset
from monai.transforms import Resize
from monai.utils import convert_to_numpy
from nibabel.orientations import apply_orientation, axcodes2ornt, io_orientation, ornt_transform

from medtl.io.image import ImageData

NIFTI_SUFFIXES = (".nii", ".nii.gz")


@dataclass(frozen=True)
class InputGrid:
    """How a model input was made from an image's array: resampled to `spacing` (mm, None: not resampled), then
    brought to `input_size` by `fit` ("resize" or "pad", see `medtl.engine.pipeline.transforms.fit_transform`).

    Example:
        >>> InputGrid((8, 8), None, "pad").fit
        'pad'
    """

    input_size: tuple[int, ...]
    spacing: Sequence[float] | None = None
    fit: str = "resize"

    def resampled_shape(self, image: ImageData) -> tuple[int, ...]:
        """The shape of `image.array` once resampled to `spacing`: the grid the input was padded or cropped from
        (MONAI's `compute_shape_offset`, the computation its `Spacing` makes; no voxel is resampled)."""
        if self.spacing is None:
            return tuple(image.array.shape)
        source, target = np.diag([*image.spacing, 1.0]), np.diag([*self.spacing, 1.0])
        shape, _ = compute_shape_offset(image.array.shape, source, target)
        return tuple(int(side) for side in shape)


def _undo_centring(heatmap: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """The inverse of MONAI's `ResizeWithPadOrCrop` from `shape`: padded axes cropped back, cropped ones padded
    with 0, with the same offsets (a pad puts diff // 2 before; a crop starts at size // 2 - target // 2)."""
    out = np.zeros(tuple(shape), dtype=heatmap.dtype)
    source, target = [], []
    for have, want in zip(heatmap.shape, shape):
        if have >= want:  # the input was padded on this axis
            start = (have - want) // 2
            source.append(slice(start, start + want))
            target.append(slice(0, want))
        else:  # the input was cropped on this axis
            start = want // 2 - have // 2
            source.append(slice(0, have))
            target.append(slice(start, start + have))
    out[tuple(target)] = heatmap[tuple(source)]
    return out


def resize_to_image(heatmap: np.ndarray | torch.Tensor, image: ImageData, grid: InputGrid | None = None,
                    mode: str | None = None) -> np.ndarray:
    """The heatmap brought from the model input back to the shape of `image.array` (bilinear / trilinear): the
    inverse of the model's resize, or with a `grid` whose fit is "pad", of its centred padding or cropping
    (outside the input's view the map is 0) and its resampling. `mode` "nearest" carries a label map back.

    Example:
        >>> img = ImageData(np.zeros((8, 6), np.float32), np.eye(4), (1.0, 1.0))
        >>> resize_to_image(np.ones((4, 4)), img).shape
        (8, 6)
        >>> square = ImageData(np.zeros((8, 8), np.float32), np.eye(4), (1.0, 1.0))  # 4x4 voxels of 2 mm
        >>> resize_to_image(np.ones((2, 2)), square, InputGrid((2, 2), (2.0, 2.0), "pad"))[4].tolist()
        [0.0, 0.25, 0.75, 1.0, 1.0, 0.75, 0.25, 0.0]
    """
    heatmap = convert_to_numpy(heatmap, dtype=np.float32)
    if heatmap.ndim != image.spatial_dims:
        raise ValueError(f"heatmap has {heatmap.ndim} dims but the image {image.meta.get('source', '')!r} "
                         f"has {image.spatial_dims}")
    if grid is not None and grid.fit == "pad":
        heatmap = _undo_centring(heatmap, grid.resampled_shape(image))
    mode = mode or ("bilinear" if image.spatial_dims == 2 else "trilinear")
    resized = Resize(spatial_size=image.array.shape, mode=mode)(heatmap[None])[0]
    return convert_to_numpy(resized, dtype=np.float32)


def to_source_geometry(
    heatmap: np.ndarray | torch.Tensor, image: ImageData, source_path: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The heatmap as a volume (array, affine) laid out like the image's source file, ready to save as NIfTI.

    `heatmap` lies on the model input grid or on the image array grid. A 3D image read from a NIfTI file is in
    nibabel's closest-canonical (RAS) order; that reorientation is undone so the result has the file's own shape
    and affine and overlays the source voxel for voxel. Other 3D images keep the canonical grid and
    `image.affine`. A 2D image becomes one slice (rows, cols, 1) with the pixel spacing.

    Example:
        >>> img = ImageData(np.zeros((8, 6), np.float32), np.diag([0.5, 0.7, 1.0, 1.0]), (0.5, 0.7))
        >>> array, affine = to_source_geometry(np.ones((4, 4)), img)
        >>> array.shape, float(affine[1, 1])
        ((8, 6, 1), 0.7)
    """
    on_image = resize_to_image(heatmap, image)
    if image.spatial_dims == 2:
        affine = np.diag([float(image.spacing[0]), float(image.spacing[1]), 1.0, 1.0])
        return on_image[..., None], affine
    if source_path is None or not str(source_path).lower().endswith(NIFTI_SUFFIXES):
        return on_image, np.asarray(image.affine, dtype=np.float64)
    source = nib.load(str(source_path))
    to_source = ornt_transform(axcodes2ornt("RAS"), io_orientation(source.affine))
    array = apply_orientation(on_image, to_source)
    if array.shape != tuple(source.shape[:3]):
        raise ValueError(f"{source_path}: file grid {tuple(source.shape[:3])} does not match the image array "
                         f"{image.array.shape} reoriented back from RAS ({array.shape}); is this the image's source?")
    return np.ascontiguousarray(array, dtype=np.float32), np.asarray(source.affine, dtype=np.float64)
