"""Whether a DICOM file's pixel data is there and as long as its header says, read without the pixels.

The header is parsed up to the Pixel Data element (as pydicom's `stop_before_pixels` does); the element's own
length and the bytes left in the file are compared with what Rows x Columns x frames x samples x bits need
(pydicom's `get_expected_length`). Compressed (encapsulated) pixel data is only checked for being present:
its length says nothing until it is decoded.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.filereader import read_partial
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import DeflatedExplicitVRLittleEndian

from medtl.io.dicom.dicom_tags import dicom_errors_named, required_image

PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00009, 0x7FE00008})  # Pixel Data, Double / Float Pixel Data
UNDEFINED_LENGTH = 0xFFFFFFFF


@dataclass(frozen=True)
class PixelExtent:
    """The pixel data element of a file: the bytes it declares (None: encapsulated, undefined length) and the
    bytes the file still holds after the element's header (None when unknown, as for deflated files)."""

    declared: int | None
    available: int | None


def read_image_header(path: str | Path) -> tuple[Dataset, PixelExtent | None]:
    """The dataset of a DICOM image without its pixels, and where its pixel data is (None when it has none).

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> ds, extent = read_image_header(get_testdata_file("CT_small.dcm"))
        >>> extent.declared, extent.available >= extent.declared  # the file goes on after the pixels
        (32768, True)
    """
    seen: dict[str, int] = {}

    def at_pixels(tag: int, vr: str | None, length: int) -> bool:
        if tag in PIXEL_TAGS:
            seen["length"] = length
            return True
        return False

    with dicom_errors_named(path), open(path, "rb") as handle:
        ds = read_partial(handle, stop_when=at_pixels)
        position, size = handle.tell(), os.fstat(handle.fileno()).st_size
    required_image(ds, path)
    if "length" not in seen:
        return ds, None
    declared = None if seen["length"] == UNDEFINED_LENGTH else seen["length"]
    header_bytes = 8 if ds.original_encoding[0] else 12  # tag + length, or tag + VR + reserved + 4-byte length
    deflated = ds.file_meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian  # parsed from a copy
    return ds, PixelExtent(declared, None if deflated else max(size - position - header_bytes, 0))


def pixel_data_problem(ds: Dataset, extent: PixelExtent | None) -> str | None:
    """Why the pixel data of `ds` cannot decode, or None when it is present and long enough.

    Example:
        >>> ds = Dataset(); ds.Rows, ds.Columns, ds.BitsAllocated, ds.SamplesPerPixel = 4, 4, 16, 1
        >>> ds.PhotometricInterpretation = "MONOCHROME2"
        >>> pixel_data_problem(ds, PixelExtent(32, 10))
        'truncated: the file ends 22 bytes into its pixel data (4 x 4, 1 frame(s), 1 sample(s) of 16 bits: 32 bytes)'
    """
    if extent is None:
        return "no pixel data: the file ends before its (7FE0,0010) Pixel Data element"
    if extent.declared is None:
        return "empty pixel data" if extent.available == 0 else None
    expected = get_expected_length(ds, "bytes")
    layout = (f"{ds.Rows} x {ds.Columns}, {int(ds.get('NumberOfFrames') or 1)} frame(s), "
              f"{ds.get('SamplesPerPixel', 1)} sample(s) of {ds.BitsAllocated} bits: {expected} bytes")
    if extent.declared < expected:
        return f"pixel data too short: {extent.declared} bytes where {layout}"
    if extent.available is not None and extent.available < expected:
        return f"truncated: the file ends {expected - extent.available} bytes into its pixel data ({layout})"
    return None
