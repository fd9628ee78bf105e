"""Where things sit in a synthetic image: a small rigid jitter between the patient's anatomy and the image frame,
and the grids that map every pixel or voxel index into anatomy coordinates.

Shapes are defined in *anatomy* coordinates (unitless, about -1..1 across the body). An image is a grid of
indices; `frame_from_index` (a homogeneous matrix) maps indices to the image *frame*, and `Rigid` maps the frame
to anatomy, so each image of a patient sees the same anatomy slightly moved.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation


@dataclass(frozen=True)
class Rigid:
    """A rotation and shift: `anatomy = rotation @ (frame - shift)`.

    Example:
        >>> rigid = Rigid(np.eye(2), np.array([0.1, 0.0]))
        >>> rigid.to_anatomy(np.array([0.1, 0.5])).tolist()
        [0.0, 0.5]
    """

    rotation: np.ndarray
    shift: np.ndarray

    def to_anatomy(self, frame_points: np.ndarray) -> np.ndarray:
        """Anatomy coordinates of frame points shaped (..., d)."""
        return (frame_points - self.shift) @ self.rotation.T

    def to_frame(self, anatomy_points: np.ndarray) -> np.ndarray:
        """Frame coordinates of anatomy points shaped (..., d)."""
        return anatomy_points @ self.rotation + self.shift


def random_rigid(rng: np.random.Generator, dims: int, max_degrees: float, max_shift: float) -> Rigid:
    """A rigid jitter with each rotation angle and each shift drawn uniformly within the limits.

    In 2D the rotation is in the (row, col) plane; in 3D it is about all three axes.

    Example:
        >>> r = random_rigid(np.random.default_rng(0), 2, 5.0, 0.05)
        >>> bool(np.allclose(r.to_frame(r.to_anatomy(np.ones(2))), 1.0))
        True
    """
    if dims == 2:
        matrix = Rotation.from_euler("z", rng.uniform(-max_degrees, max_degrees), degrees=True).as_matrix()[:2, :2]
    else:
        matrix = Rotation.from_euler("xyz", rng.uniform(-max_degrees, max_degrees, 3), degrees=True).as_matrix()
    return Rigid(matrix, rng.uniform(-max_shift, max_shift, dims))


def index_grid_to_anatomy(shape: tuple[int, ...], frame_from_index: np.ndarray, rigid: Rigid) -> np.ndarray:
    """Anatomy coordinates of every index of an array of `shape`, as an array shaped (*shape, d).

    Example:
        >>> frame = np.array([[2.0, 0, -1], [0, 2.0, -1], [0, 0, 1]])
        >>> index_grid_to_anatomy((2, 2), frame, Rigid(np.eye(2), np.zeros(2)))[1, 1].tolist()
        [1.0, 1.0]
    """
    indices = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij"), axis=-1)
    frame = indices @ frame_from_index[:-1, :-1].T + frame_from_index[:-1, -1]
    return rigid.to_anatomy(frame)


def snap_to_grid(
    anatomy_point: np.ndarray, frame_from_index: np.ndarray, rigid: Rigid
) -> tuple[np.ndarray, np.ndarray]:
    """The index nearest to an anatomy point, and the anatomy point exactly at that index.

    Lesions are drawn at the snapped point so that the recorded index is exactly their centre.

    Example:
        >>> frame = np.array([[2.0, 0, -1], [0, 2.0, -1], [0, 0, 1]])
        >>> index, point = snap_to_grid(np.array([0.9, 0.2]), frame, Rigid(np.eye(2), np.zeros(2)))
        >>> index.tolist(), point.tolist()
        ([1, 1], [1.0, 1.0])
    """
    frame = rigid.to_frame(anatomy_point)
    index_from_frame = np.linalg.inv(frame_from_index)
    index = np.rint(index_from_frame[:-1, :-1] @ frame + index_from_frame[:-1, -1]).astype(int)
    snapped_frame = frame_from_index[:-1, :-1] @ index + frame_from_index[:-1, -1]
    return index, rigid.to_anatomy(snapped_frame)


def ellipsoid_radius(points: np.ndarray, center: np.ndarray, semi_axes: np.ndarray) -> np.ndarray:
    """The normalised ellipsoid radius of each point (1 on the surface, below 1 inside); axis-aligned.

    Example:
        >>> float(ellipsoid_radius(np.array([0.0, 2.0]), np.zeros(2), np.array([1.0, 4.0])))
        0.5
    """
    return np.sqrt((((points - center) / semi_axes) ** 2).sum(axis=-1))


def soft_inside(radius: np.ndarray, edge: float) -> np.ndarray:
    """A smooth 0..1 indicator of `radius < 1`, ramping over about `edge` around the boundary.

    Example:
        >>> soft_inside(np.array([0.0, 1.0, 2.0]), 0.05).round(2).tolist()
        [1.0, 0.5, 0.0]
    """
    return 1.0 / (1.0 + np.exp(np.clip((radius - 1.0) / edge, -50.0, 50.0)))
