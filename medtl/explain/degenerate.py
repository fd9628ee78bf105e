"""Maps that must not be shown as evidence: empty or constant, peaking on the image border or on padding, or
barely changed when the model's learned top layers are re-initialised. Written by hand: no maintained library
checks a saliency map before it is drawn."""
from __future__ import annotations

import math

import numpy as np
import torch

BORDER_SHARE = 1 / 32  # the border band: this share of each side, at least one pixel
RANDOMIZATION_LIMIT = 0.9  # rank correlation with the re-initialised model's map above which a map is flagged
EMPTY = "empty map, zero or constant everywhere"
BORDER = "maximum on the image border"
PADDING = "maximum on padding, where the input is constant"
RANDOMIZATION = "fails the randomisation check"


def degenerate_reason(heatmap: torch.Tensor | np.ndarray, image: torch.Tensor | np.ndarray,
                      randomization: float | None = None) -> str | None:
    """Why a map (*spatial, in [0, 1], at the model input size) is no evidence, or None when it may be shown.

    `image` is the model input (C, *spatial) the map explains; `randomization` the map's rank correlation with the
    map of the model whose top layers are re-initialised (`randomization_correlations`). Checked in order: the
    map is zero or constant everywhere; its maximum lies within `BORDER_SHARE` of an edge; its maximum lies where
    the input is constant (padding, or a saturated region outside the body); the correlation is at least
    `RANDOMIZATION_LIMIT`.

    Example:
        >>> degenerate_reason(np.zeros((32, 32)), np.random.rand(1, 32, 32))
        'empty map, zero or constant everywhere'
        >>> heat = np.zeros((32, 32)); heat[16, 16] = 1
        >>> degenerate_reason(heat, np.random.rand(1, 32, 32)) is None
        True
    """
    heat = np.asarray(torch.as_tensor(heatmap).detach().cpu(), dtype=np.float64)
    pixels = np.asarray(torch.as_tensor(image).detach().cpu(), dtype=np.float64)
    if pixels.shape[1:] != heat.shape:
        raise ValueError(f"heatmap {heat.shape} and image {pixels.shape} (C, *spatial) must share a grid")
    if not np.isfinite(heat).all() or heat.max() <= heat.min():
        return EMPTY
    peak = np.unravel_index(int(np.argmax(heat)), heat.shape)
    band = [max(1, round(s * BORDER_SHARE)) for s in heat.shape]
    if any(p < b or p >= s - b for p, b, s in zip(peak, band, heat.shape)):
        return BORDER
    around = pixels[(slice(None), *(slice(max(0, p - 1), p + 2) for p in peak))]
    if np.ptp(around) <= 1e-6 * max(np.ptp(pixels), 1e-12):
        return PADDING
    if randomization is not None and math.isfinite(randomization) and randomization >= RANDOMIZATION_LIMIT:
        return f"{RANDOMIZATION} (rank correlation {randomization:.2f} with a re-initialised model)"
    return None


def reason_kind(reason: str) -> str:
    """A reason without its measured detail, for counting.

    Example:
        >>> reason_kind("fails the randomisation check (rank correlation 0.95 with a re-initialised model)")
        'fails the randomisation check'
    """
    return reason.split(" (")[0]
