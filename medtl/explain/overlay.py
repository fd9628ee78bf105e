"""PNG pictures of a heatmap over its image: one panel for 2D, three orthogonal planes for 3D."""
from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

HEAT_ALPHA = 0.4
PANEL_INCHES = 3.0


def overlay_png(image: np.ndarray, heatmap: np.ndarray, spacing: Sequence[float] | None = None,
                flag: str | None = None) -> bytes:
    """PNG bytes of a heatmap over a 2D image (rows, cols as displayed), or a three-plane montage for 3D.

    A flagged map (`flag`: why it is no evidence, see `medtl.explain.degenerate`) is not drawn: the picture shows
    the image alone, captioned "no saliency shown: <flag>".

    Example:
        >>> overlay_png(np.random.rand(32, 32), np.random.rand(32, 32))[:4]
        b'\\x89PNG'
    """
    if image.shape != heatmap.shape:
        raise ValueError(f"image {image.shape} and heatmap {heatmap.shape} must have the same shape")
    if image.ndim == 3:
        return three_plane_montage(image, heatmap, spacing, flag)
    if image.ndim != 2:
        raise ValueError(f"expected a 2D image or a 3D volume; got shape {image.shape}")
    figure = Figure(figsize=(PANEL_INCHES, PANEL_INCHES))
    aspect = 1.0 if spacing is None else spacing[0] / spacing[1]
    draw_overlay(figure.add_subplot(), image, None if flag else heatmap, aspect, display_window(image),
                 _caption(flag))
    return figure_png(figure)


def _caption(flag: str | None) -> str:
    return textwrap.fill(f"no saliency shown: {flag}", 40) if flag else ""


def three_plane_montage(
    volume: np.ndarray, heatmap: np.ndarray, spacing: Sequence[float] | None = None, flag: str | None = None
) -> bytes:
    """PNG bytes of axial, coronal and sagittal planes through the heatmap's peak (a flagged map, see
    `overlay_png`, is not drawn: planes through the centre, captioned).

    `volume` and `heatmap` are (x, y, z) in canonical RAS+ order. Planes are shown the radiological way: patient
    right on the viewer's left, anterior up (axial), superior up (coronal, sagittal), anterior left (sagittal).
    `spacing` (mm per voxel along x, y, z) sets the aspect of each plane.

    Example:
        >>> three_plane_montage(np.random.rand(16, 16, 16), np.random.rand(16, 16, 16))[:4]
        b'\\x89PNG'
    """
    if volume.ndim != 3 or volume.shape != heatmap.shape:
        raise ValueError(f"volume {volume.shape} and heatmap {heatmap.shape} must be the same 3D shape")
    sx, sy, sz = (1.0, 1.0, 1.0) if spacing is None else (float(s) for s in spacing[:3])
    peak = np.array(heatmap.shape) // 2 if flag else np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    x, y, z = (int(i) for i in peak)
    planes = [  # (title, volume plane, heatmap plane, row spacing / column spacing after display)
        (f"axial z={z}", volume[:, :, z], heatmap[:, :, z], sy / sx),
        (f"coronal y={y}", volume[:, y, :], heatmap[:, y, :], sz / sx),
        (f"sagittal x={x}", volume[x, :, :], heatmap[x, :, :], sz / sy),
    ]
    figure = Figure(figsize=(3 * PANEL_INCHES, PANEL_INCHES))
    window = display_window(volume)
    for axes, (title, image, heat, aspect) in zip(figure.subplots(1, 3), planes):
        draw_overlay(axes, radiological(image), None if flag else radiological(heat), aspect, window, title)
    if flag:
        figure.suptitle(_caption(flag).replace("\n", " "), fontsize=9, y=1.08)
    return figure_png(figure)


def draw_overlay(axes: Axes, image: np.ndarray, heatmap: np.ndarray | None, aspect: float,
                 window: tuple[float, float], title: str, alpha: float = HEAT_ALPHA) -> None:
    """Draw `heatmap` (jet, 0..1) at opacity `alpha` over `image` (grey, `window` from `display_window`); None:
    the image alone.

    Example:
        >>> draw_overlay(Figure().add_subplot(), np.zeros((4, 4)), np.ones((4, 4)), 1.0, (0.0, 1.0), "case")
    """
    axes.imshow(image, cmap="gray", vmin=window[0], vmax=window[1], aspect=aspect, interpolation="nearest")
    if heatmap is not None:
        axes.imshow(heatmap, cmap="jet", vmin=0.0, vmax=1.0, alpha=alpha, aspect=aspect, interpolation="bilinear")
    axes.set_title(title, fontsize=9)
    axes.set_axis_off()


def display_window(image: np.ndarray) -> tuple[float, float]:
    """Grey-level window of an image: its 1st to 99th percentile.

    Example:
        >>> display_window(np.arange(101.0))
        (1.0, 99.0)
    """
    low, high = np.percentile(image, [1, 99])
    return float(low), float(high if high > low else low + 1.0)


def radiological(plane: np.ndarray) -> np.ndarray:
    """A plane of a canonical RAS+ volume as displayed: (first, second) voxel axes -> rows = second axis
    reversed, columns = first axis reversed (patient right on the viewer's left, anterior or superior up).

    Example:
        >>> radiological(np.array([[1, 2], [3, 4]])).tolist()
        [[4, 2], [3, 1]]
    """
    return plane.T[::-1, ::-1]


def figure_png(figure: Figure) -> bytes:
    """A matplotlib figure rendered as PNG bytes (no pyplot state involved).

    Example:
        >>> figure_png(Figure(figsize=(1, 1)))[:4]
        b'\\x89PNG'
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()
