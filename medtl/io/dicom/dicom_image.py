"""One DICOM file: a single-frame image (2D, as displayed) or a multi-frame file with per-frame positions (3D).

A single frame is always 2D, even a CT/MR slice that belongs to a volume (read the folder for the volume).
2D: (rows, cols) float32 after the Modality LUT, VOI LUT/window and MONOCHROME1 inversion; spacing is
(PixelSpacing or ImagerPixelSpacing, else 1 mm) as (between rows, between columns).
3D: frames placed by their positions (see `medtl.io.dicom.dicom_geometry`), in modality units, canonical RAS+.
Multi-frame files whose frames carry no positions (cine loops, colour clips) raise `ReadError`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from medtl.io.dicom.dicom_geometry import SliceGeometry, frame_geometries, stack_volume, stacked_geometry
from medtl.io.dicom.dicom_pixels import decoded_pixels, displayed_values, modality_values
from medtl.io.dicom.dicom_tags import (
    frame_count, functional_item, identity, pixel_spacing, read_dataset, samples_per_pixel,
)
from medtl.errors import ReadError
from medtl.io.image import ImageData, ImageHeader
from medtl.io.meta import image_meta
from medtl.io.orientation import voxel_spacing


def read_dicom_file(path: str | Path) -> ImageData:
    """Pixels and geometry of one DICOM file.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> image = read_dicom_file(get_testdata_file("CT_small.dcm"))
        >>> image.array.shape, image.spacing, image.meta["modality"]
        ((128, 128), (0.661468, 0.661468), 'CT')
    """
    return dataset_image(read_dataset(path), path)


def dataset_image(ds: Dataset, path: str | Path) -> ImageData:
    """What `read_dicom_file` returns, from the dataset of `path` already read with its pixels.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> path = get_testdata_file("rtdose.dcm")
        >>> dataset_image(read_dataset(path), path).array.shape
        (10, 10, 15)
    """
    meta = image_meta(path, "dicom", identity(ds))
    if frame_count(ds) == 1:
        spacing = _plane_spacing(ds)
        return ImageData(displayed_values(ds, path), np.diag([*spacing, 1.0, 1.0]), spacing, meta)
    geometries = _frame_geometries(ds, path)
    pixels = decoded_pixels(ds, path)
    frames = [modality_values(pixels[i], _rescale_source(ds, i)) for i in range(len(pixels))]
    array, affine = stack_volume(frames, geometries, path)
    return ImageData(array, affine, voxel_spacing(affine), meta)


def dicom_header(ds: Dataset, path: str | Path) -> ImageHeader:
    """The header `read_dicom_file` would match, from a dataset read without pixels.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> path = get_testdata_file("rtdose.dcm")
        >>> dicom_header(read_dataset(path, with_pixels=False), path).shape
        (10, 10, 15)
    """
    channels = samples_per_pixel(ds)
    if frame_count(ds) == 1:
        spacing = _plane_spacing(ds)
        shape = (int(ds.Rows), int(ds.Columns))
        return ImageHeader(str(path), "dicom", shape, spacing, **identity(ds), channels=channels)
    shape, affine = stacked_geometry(_frame_geometries(ds, path), path)
    return ImageHeader(str(path), "dicom", shape, voxel_spacing(affine), **identity(ds), channels=channels)


def _plane_spacing(ds: Dataset) -> tuple[float, float]:
    return pixel_spacing(ds) or (1.0, 1.0)


def _frame_geometries(ds: Dataset, path: str | Path) -> list[SliceGeometry]:
    geometries = frame_geometries(ds)
    if geometries is None:
        reason = f"{frame_count(ds)} frames without per-frame positions: neither a single image nor a volume"
        raise ReadError(path, reason)
    return geometries


def _rescale_source(ds: Dataset, frame: int) -> Dataset:
    """Enhanced multi-frame files keep the rescale per frame (or shared); classic ones on the dataset."""
    item = functional_item(ds, frame, "PixelValueTransformationSequence")
    return ds if item is None else item
