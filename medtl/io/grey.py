"""Colour to grey, the same way for every format (DICOM RGB/YBR/palette, PNG, JPEG)."""
from __future__ import annotations

import numpy as np

# ITU-R 601-2 luma, the weights Pillow's convert("L") uses; kept in float so 16-bit colour loses nothing.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float64)


def rgb_to_grey(rgb: np.ndarray) -> np.ndarray:
    """Grey float32 image from an array whose last axis holds R, G, B.

    Example:
        >>> [round(float(v), 3) for v in rgb_to_grey(np.array([[255, 255, 255], [255, 0, 0]], dtype=np.uint8))]
        [255.0, 76.245]
    """
    if rgb.shape[-1] != 3:
        raise ValueError(f"expected 3 colour channels on the last axis, got shape {rgb.shape}")
    return (rgb.astype(np.float64) @ LUMA_WEIGHTS).astype(np.float32)
