"""DICOM pixel values: decoding, colour to grey, the Modality LUT, and for 2D images the VOI LUT and
MONOCHROME1 inversion.

Decoding goes through pydicom and its installed plugins (JPEG baseline/extended/lossless, JPEG 2000, JPEG-LS,
RLE, deflate). The Modality LUT (RescaleSlope/Intercept or Modality LUT Sequence) gives modality units such as
Hounsfield units; volumes stop there. 2D images are returned as displayed: the VOI LUT (VOI LUT Sequence or
WindowCenter/WindowWidth) is applied when present and valid (an invalid one leaves the full range, with a
warning), then MONOCHROME1 is inverted so that bright means dense.

The slices of a series are decoded together when they can be: uncompressed grey slices that share one pixel
format are the frames of one buffer for pydicom's decoder, and slices that share one rescale get it in one call.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut, as_pixel_options, get_decoder
from pydicom.tag import Tag

from medtl.io.file_warnings import MedtlWarning
from medtl.io.grey import rgb_to_grey
from medtl.errors import ReadError

# The Image Pixel module elements that fix how a frame's bytes decode (pydicom's decoding options).
PIXEL_FORMAT = tuple(Tag(keyword) for keyword in (
    "SamplesPerPixel", "PhotometricInterpretation", "PlanarConfiguration", "NumberOfFrames", "Rows", "Columns",
    "BitsAllocated", "BitsStored", "PixelRepresentation"))
RESCALE = (Tag("RescaleSlope"), Tag("RescaleIntercept"))


def decoded_pixels(ds: Dataset, path: str | Path) -> np.ndarray:
    """Stored pixel values, colour made grey: (rows, cols) for one frame, (frames, rows, cols) for several.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> from medtl.io.dicom.dicom_tags import read_dataset
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


def series_values(datasets: Sequence[Dataset], paths: Sequence[str | Path]) -> np.ndarray:
    """Modality values (float32, slices x rows x cols) of the single-frame slices of one series, in file order.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> from medtl.io.dicom.dicom_tags import read_dataset
        >>> paths = [get_testdata_file("CT_small.dcm")] * 2
        >>> series_values([read_dataset(p) for p in paths], paths).shape
        (2, 128, 128)
    """
    stored = _frames_of_one_buffer(datasets)
    if stored is None:
        stored = np.stack([decoded_pixels(ds, path) for ds, path in zip(datasets, paths)])
    if _one_rescale(datasets):
        return modality_values(stored, datasets[0])
    return np.stack([modality_values(frame, ds) for frame, ds in zip(stored, datasets)])


def _frames_of_one_buffer(datasets: Sequence[Dataset]) -> np.ndarray | None:
    """Stored values of uncompressed grey slices that share one pixel format, decoded in one pydicom call; None
    when the slices differ or are compressed, colour, bit-packed or padded (decode those one by one)."""
    first = datasets[0]
    syntax = first.file_meta.get("TransferSyntaxUID")
    pixel_format = _raw_values(first, PIXEL_FORMAT)  # before anything below converts first's elements
    if syntax is None or syntax.is_encapsulated or any(
        ds.file_meta.get("TransferSyntaxUID") != syntax or _raw_values(ds, PIXEL_FORMAT) != pixel_format
        for ds in datasets
    ):
        return None
    if (not str(first.get("PhotometricInterpretation", "")).startswith("MONOCHROME")
            or int(first.get("SamplesPerPixel", 1)) != 1 or int(first.get("BitsAllocated", 0)) % 8):
        return None
    frame_bytes = int(first.Rows) * int(first.Columns) * int(first.BitsAllocated) // 8
    if any("PixelData" not in ds or len(ds.PixelData) != frame_bytes for ds in datasets):
        return None
    options = as_pixel_options(first, number_of_frames=len(datasets), pixel_keyword="PixelData",
                               transfer_syntax_uid=syntax)
    try:
        frames, _ = get_decoder(syntax).as_array(b"".join(ds.PixelData for ds in datasets), **options)
    except ValueError:  # pydicom's check of the pixel format failed: decoding slice by slice names the file at fault
        return None
    return frames.reshape(len(datasets), *frames.shape[-2:])


def _raw_values(ds: Dataset, tags: tuple[Tag, ...]) -> list:
    """The values of `tags` as stored, compared without pydicom converting each one (the slow part).

    An element converted in one slice and not in another compares unequal: the slices are then handled one by
    one, which is slower but gives the same values."""
    return [getattr(ds.get_item(tag), "value", None) for tag in tags]


def _one_rescale(datasets: Sequence[Dataset]) -> bool:
    """True when every slice stores the same RescaleSlope and RescaleIntercept (or none) and no Modality LUT."""
    rescale = _raw_values(datasets[0], RESCALE)
    return all(_raw_values(ds, RESCALE) == rescale and "ModalityLUTSequence" not in ds for ds in datasets)


def displayed_values(ds: Dataset, path: str | Path) -> np.ndarray:
    """A single-frame image as displayed (float32, rows x cols): Modality LUT, VOI LUT or window when present,
    MONOCHROME1 inverted within the output range of those same LUTs so that bright means dense.

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> from medtl.io.dicom.dicom_tags import read_dataset
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
    """Modality then VOI LUT; an invalid VOI (window width 0, a damaged LUT) leaves the full range, with a
    warning: the image is still there, only its display window is wrong."""
    values = apply_modality_lut(pixels, ds)
    try:
        values = apply_voi_lut(values, ds)
    except Exception as err:  # noqa: BLE001 -- pydicom raises several types for invalid windows and LUTs
        reason = " ".join(str(err).split()) or type(err).__name__
        warnings.warn(MedtlWarning(f"invalid VOI window or LUT, full range used: {reason}"), stacklevel=2)
    return np.asarray(values, dtype=np.float32)
