"""PNG and JPEG images through Pillow: 8- or 16-bit grey kept as raw values, colour made grey (luma).

The array is (rows, cols) float32 as displayed; these formats carry no spacing, so it is 1 x 1.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from medtl.io.grey import rgb_to_grey
from medtl.errors import ReadError
from medtl.io.image import ImageData, ImageHeader
from medtl.io.meta import image_meta

GREY_MODES = ("L", "I", "I;16", "I;16B", "I;16L", "F")
UNIT_SPACING = (1.0, 1.0)


def read_raster(path: str | Path) -> ImageData:
    """A PNG/JPEG image as grey float32 raw values.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "a.png"
        >>> Image.fromarray(np.full((2, 3), 4000, np.uint16)).save(path)
        >>> read_raster(path).array.tolist()
        [[4000.0, 4000.0, 4000.0], [4000.0, 4000.0, 4000.0]]
    """
    with _open(path) as img:
        try:
            array = _grey(img)
        except (OSError, ValueError) as err:  # truncated or damaged pixel data
            raise ReadError(path, f"cannot decode the image ({err})") from err
        fmt = img.format.lower()
    return ImageData(array, np.eye(4), UNIT_SPACING, image_meta(path, fmt))


def raster_header(path: str | Path) -> ImageHeader:
    """Size and format of a PNG/JPEG image, without decoding it.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "a.png"
        >>> Image.fromarray(np.zeros((2, 3), np.uint8)).save(path)
        >>> raster_header(path).shape
        (2, 3)
    """
    with _open(path) as img:
        channels = 1 if img.mode in (*GREY_MODES, "LA") else 3
        return ImageHeader(str(path), img.format.lower(), (img.height, img.width), UNIT_SPACING, channels=channels)


def _open(path: str | Path) -> Image.Image:
    try:
        return Image.open(path)
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise ReadError(path, f"not a readable PNG/JPEG image ({err})") from err


def _grey(img: Image.Image) -> np.ndarray:
    if img.mode in GREY_MODES:
        return np.asarray(img, dtype=np.float32)
    if img.mode == "LA":
        return np.asarray(img.getchannel("L"), dtype=np.float32)
    return rgb_to_grey(np.asarray(img.convert("RGB")))
