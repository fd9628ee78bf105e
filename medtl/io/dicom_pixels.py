"""DICOM pixel values: decoding, colour to grey, the Modality LUT, and for 2D images the VOI LUT and
MONOCHROME1 inversion.

Decoding goes through pydicom and its installed plugins (JPEG baseline/extended/lossless, JPEG 2000, JPEG-LS,
RLE, deflate). The Modality LUT (RescaleSlope/Intercept or Modality LUT Sequence) gives modality units such as
Hounsfield units; volumes stop there. 2D images are returned as displayed: the VOI LUT (VOI LUT Sequence or
WindowCenter/WindowWidth) is applied when present, then MONOCHROME1 is inverted so that bright means dense.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut

from medtl.io.grey import rgb_to_grey
from medtl.io.image import ReadError


def decoded_pixels(ds: Dataset, path: str | Path) -> np.ndarray:
    """Stored pixel values, colour made grey: (rows, cols) for one frame, (frames, rows, cols) for several.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> from medtl.io.dicom_tags import read_dataset
        >>> decoded_pixels(read_dataset(get_testdata_file("SC_rgb_rle.dcm")), "SC_rgb_rle.dcm").shape
        (100, 100)
    """
    try:
        pixels = ds.pixel_array
    except Exception as err:  # each decoder plugin fails its own way; all mean the same to the caller
        syntax = ds.file_meta.get("TransferSyntaxUID")
        syntax = syntax.name if syntax else "unknown transfer syntax"
        reason = " ".join(line.strip() for line in str(err).splitlines())
        raise ReadError(path, f"cannot decode the pixel data ({syntax}): {reason}") from err
    if ds.get("PhotometricInterpretation") == "PALETTE COLOR":
        return rgb_to_grey(apply_color_lut(pixels, ds))
    if int(ds.get("SamplesPerPixel", 1)) == 3:  # pydicom has already turned YBR into RGB
        return rgb_to_grey(pixels)
    return pixels


def modality_values(pixels: np.ndarray, lut_source: Dataset) -> np.ndarray:
    """Stored values -> modality units (float32) with the Modality LUT or rescale found in `lut_source`
    (the dataset, or for enhanced multi-frame a frame's PixelValueTransformationSequence item).

    Example:
        >>> ds = Dataset(); ds.RescaleSlope = 2; ds.RescaleIntercept = -1024
        >>> modality_values(np.array([[0, 10]], np.int16), ds).tolist()
        [[-1024.0, -1004.0]]
    """
    return np.asarray(apply_modality_lut(pixels, lut_source), dtype=np.float32)


def displayed_values(ds: Dataset, path: str | Path) -> np.ndarray:
    """A single-frame image as displayed (float32, rows x cols): Modality LUT, VOI LUT or window when present,
    MONOCHROME1 inverted within the output range of those same LUTs so that bright means dense.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> from medtl.io.dicom_tags import read_dataset
        >>> path = get_testdata_file("CT_small.dcm")
        >>> float(displayed_values(read_dataset(path), path).min())
        -896.0
    """
    pixels = decoded_pixels(ds, path)
    if not str(ds.get("PhotometricInterpretation", "")).startswith("MONOCHROME"):
        return np.asarray(pixels, dtype=np.float32)
    image = _displayed(pixels, ds)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        bits = int(ds.BitsStored)
        low = -(2 ** (bits - 1)) if ds.get("PixelRepresentation") == 1 else 0
        limits = _displayed(np.array([low, low + 2**bits - 1]), ds)
        image = limits.min() + limits.max() - image
    return image


def _displayed(pixels: np.ndarray, ds: Dataset) -> np.ndarray:
    return np.asarray(apply_voi_lut(apply_modality_lut(pixels, ds), ds), dtype=np.float32)
