"""Brain-MRI-like phantoms: head with a bright skull shell, grey and white matter under a smooth bias field,
a butterfly pair of dark ventricles, magnitude (Rician) noise, and for positive patients one bright lesion.

Coordinates are anatomy (x right, y anterior, z superior, as in RAS) in units of
`unit_mm` millimetres, about -1..1 across the head. Shapes are drawn in world space, so a volume written with
an oblique or flipped affine shows the same head.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial.transform import Rotation

from medtl.synth.geometry import Rigid, ellipsoid_radius, index_grid_to_anatomy, snap_to_grid, soft_inside

MRI_LABELS = ("normal", "lesion")
LESION_RADIUS_VOXELS = (2.0, 3.0)
MAX_LESION_RADIUS = 0.16  # anatomy units: on coarse grids the lesion stays small against the brain
NOISE_SD = 0.03


@dataclass(frozen=True)
class HeadAnatomy:
    """One patient's head: shape, tissue intensities, bias field and the lesion (None for a normal patient).

    Lesion centre and semi-axes are in anatomy units.

    Example:
        >>> sample_head(np.random.default_rng(0), "normal", 0.06).lesion_center is None
        True
    """

    head_semi_axes: np.ndarray
    skull_share: float
    ventricle_offset: np.ndarray
    ventricle_semi_axes: np.ndarray
    ventricle_degrees: float
    grey: float
    white: float
    bias: np.ndarray
    lesion_center: np.ndarray | None = None
    lesion_semi_axes: np.ndarray | None = None
    lesion_contrast: float = 0.0

    def brain_semi_axes(self) -> np.ndarray:
        """Semi-axes of the brain inside the skull shell."""
        return self.head_semi_axes * (1.0 - self.skull_share)

    def ventricle_radius(self, points: np.ndarray, grow: float = 0.0) -> np.ndarray:
        """Normalised radius of the nearer ventricle at each point (below 1 inside), semi-axes grown by `grow`."""
        radii = []
        for side in (-1.0, 1.0):
            center = self.ventricle_offset * np.array([side, 1.0, 1.0])
            turn = Rotation.from_euler("z", side * self.ventricle_degrees, degrees=True).as_matrix()
            radii.append(ellipsoid_radius((points - center) @ turn, np.zeros(3), self.ventricle_semi_axes + grow))
        return np.minimum(*radii)


def sample_head(rng: np.random.Generator, label: str, voxel_units: float) -> HeadAnatomy:
    """A random head for a patient labelled "normal" or "lesion"; `voxel_units` is one in-plane voxel in anatomy
    units, setting the lesion's size (LESION_RADIUS_VOXELS, at most MAX_LESION_RADIUS).

    Example:
        >>> sample_head(np.random.default_rng(0), "lesion", 0.06).lesion_center.shape
        (3,)
    """
    head = HeadAnatomy(
        head_semi_axes=np.array([0.78, 0.9, 0.76]) * rng.uniform(0.92, 1.0) + rng.uniform(-0.02, 0.02, 3),
        skull_share=rng.uniform(0.1, 0.14),
        ventricle_offset=np.array([rng.uniform(0.07, 0.09), rng.uniform(0.0, 0.06), rng.uniform(0.05, 0.12)]),
        ventricle_semi_axes=np.array([rng.uniform(0.04, 0.06), rng.uniform(0.2, 0.26), rng.uniform(0.08, 0.11)]),
        ventricle_degrees=rng.uniform(10.0, 20.0),
        grey=rng.uniform(0.45, 0.52),
        white=rng.uniform(0.62, 0.7),
        bias=rng.uniform(-0.1, 0.1, 4),
    )
    if label != "lesion":
        return head
    radius = min(rng.uniform(*LESION_RADIUS_VOXELS) * voxel_units, MAX_LESION_RADIUS)
    semi_axes = radius * np.array([1.0, *rng.uniform(0.8, 1.2, 2)])
    room = head.brain_semi_axes() - semi_axes.max() - 0.06
    while True:  # rejection sampling: uniform within the brain (lesion included), clear of the ventricles
        direction = rng.normal(size=3)
        center = room * direction / np.linalg.norm(direction) * rng.uniform() ** (1.0 / 3.0)
        if head.ventricle_radius(center, semi_axes.max() + 0.03) > 1.0:
            return replace(head, lesion_center=center, lesion_semi_axes=semi_axes,
                           lesion_contrast=rng.uniform(0.3, 0.4))


def render_head(
    anatomy: HeadAnatomy, shape: tuple[int, int, int], affine: np.ndarray, unit_mm: float, rigid: Rigid,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """One volume of the patient, indexed like a file with `affine` (index -> RAS mm) and seen through `rigid`:
    (volume float32 about 0..1, lesion mask bool, findings as {"kind", "voxel", "world", "radius" (mm)}).

    Example:
        >>> head = sample_head(np.random.default_rng(0), "lesion", 0.06)
        >>> affine = np.diag([1.5, 1.5, 3.0, 1.0]); affine[:3, 3] = [-23.25, -23.25, -22.5]
        >>> vol, mask, found = render_head(head, (32, 32, 16), affine, 24.0, Rigid(np.eye(3), np.zeros(3)),
        ...                                np.random.default_rng(1))
        >>> bool(mask[tuple(found[0]["voxel"])])
        True
    """
    frame_from_index = np.diag([1.0 / unit_mm] * 3 + [1.0]) @ affine
    points = index_grid_to_anatomy(shape, frame_from_index, rigid)
    edge = 0.5 * float(np.linalg.norm(frame_from_index[:3, :3], axis=0).min())
    head = soft_inside(ellipsoid_radius(points, np.zeros(3), anatomy.head_semi_axes), edge)
    brain_radius = ellipsoid_radius(points, np.zeros(3), anatomy.brain_semi_axes())
    brain = soft_inside(brain_radius, edge)
    white = soft_inside(brain_radius / 0.72, 0.08) * brain
    ventricles = soft_inside(anatomy.ventricle_radius(points), 0.1)
    bias = 1.0 + points @ anatomy.bias[:3] + anatomy.bias[3] * (points**2).sum(axis=-1)
    tissue = anatomy.grey * brain + (anatomy.white - anatomy.grey) * white
    volume = 0.9 * (head - brain) + tissue * (1.0 - ventricles) + 0.12 * ventricles * brain
    mask = np.zeros(shape, dtype=bool)
    findings = []
    if anatomy.lesion_center is not None:
        index, center = snap_to_grid(anatomy.lesion_center, frame_from_index, rigid)
        lesion_radius = ellipsoid_radius(points, center, anatomy.lesion_semi_axes)
        volume += anatomy.lesion_contrast * soft_inside(lesion_radius, 0.15)
        mask = lesion_radius <= 1.0
        world = affine[:3, :3] @ index + affine[:3, 3]
        findings.append({
            "kind": "lesion",
            "voxel": [int(i) for i in index],
            "world": [round(float(w), 3) for w in world],
            "radius": round(float(anatomy.lesion_semi_axes.mean() * unit_mm), 2),
        })
    volume = volume * bias
    noisy = np.hypot(volume + rng.normal(0.0, NOISE_SD, shape), rng.normal(0.0, NOISE_SD, shape))
    return noisy.astype(np.float32), mask, findings
