"""Chest-X-ray-like phantoms: body, lungs, heart, spine and ribs, with nodules or the source-task findings.

Coordinates are anatomy (row, col) in about -1..1, row pointing down and col to the viewer's right; the image is
a posterior-anterior view, so the heart sits right of centre as displayed (the patient's left). Intensities follow
the display convention: dense tissue bright, air dark, values about 0..1.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage

from medtl.synth.geometry import Rigid, ellipsoid_radius, index_grid_to_anatomy, snap_to_grid, soft_inside

NODULE_TASK_LABELS = ("normal", "nodule")
SOURCE_TASK_LABELS = ("normal", "cardiomegaly", "effusion", "mass", "granuloma")
NODULE_CONTRAST = (0.15, 0.21)  # a small CNN on 64^2 images of 40 patients reaches a CV AUC near 0.7


@dataclass(frozen=True)
class LesionKind:
    """How many round findings of one kind a patient carries, their radius (share of the image side) and
    contrast ranges, and how close to the lung's edge they may sit (`edge_margin` + share of the radius).

    Example:
        >>> LESION_KINDS["granuloma"].count
        (2, 5)
    """

    count: tuple[int, int]
    radius_share: tuple[float, float]
    contrast: tuple[float, float]
    edge_margin: float
    radius_margin: float


LESION_KINDS = {
    "nodule": LesionKind((1, 3), (0.02, 0.05), NODULE_CONTRAST, 0.04, 1.0),
    "mass": LesionKind((1, 1), (0.08, 0.12), (0.22, 0.3), 0.0, 0.6),
    # Calcified granulomas: small, dense and often several; the source finding closest to a nodule.
    "granuloma": LesionKind((2, 5), (0.012, 0.022), (0.28, 0.4), 0.03, 1.0),
}
NOISE_SD = 0.03


@dataclass(frozen=True)
class Lesion:
    """A round bright finding in anatomy coordinates (radius in anatomy units).

    Example:
        >>> Lesion("nodule", np.zeros(2), 0.05, 0.1).kind
        'nodule'
    """

    kind: str
    center: np.ndarray
    radius: float
    contrast: float


@dataclass(frozen=True)
class ChestAnatomy:
    """One patient's chest: shape and brightness parameters, and the findings the patient carries.

    Example:
        >>> sample_chest(np.random.default_rng(0), "normal").heart_scale
        1.0
    """

    lung_row: float
    lung_col: float
    lung_semi_axes: np.ndarray
    lung_darkness: float
    heart_center: np.ndarray
    heart_semi_axes: np.ndarray
    heart_scale: float
    body_half_width: float
    rib_spacing: float
    rib_phase: float
    rib_bend: float
    rib_strength: float
    gain: float
    offset: float
    effusion_side: int = 0
    effusion_depth: float = 0.0
    lesions: list[Lesion] = field(default_factory=list)

    def lung_centers(self) -> list[np.ndarray]:
        """Centres of the lung on the viewer's left and right."""
        return [np.array([self.lung_row, -self.lung_col]), np.array([self.lung_row, self.lung_col])]


def sample_chest(rng: np.random.Generator, label: str) -> ChestAnatomy:
    """A random chest for a patient with `label` (one of NODULE_TASK_LABELS or SOURCE_TASK_LABELS).

    Example:
        >>> len(sample_chest(np.random.default_rng(1), "nodule").lesions) >= 1
        True
    """
    anatomy = ChestAnatomy(
        lung_row=rng.uniform(-0.16, -0.06),
        lung_col=rng.uniform(0.36, 0.42),
        lung_semi_axes=np.array([rng.uniform(0.5, 0.6), rng.uniform(0.22, 0.27)]),
        lung_darkness=rng.uniform(0.3, 0.38),
        heart_center=np.array([rng.uniform(0.18, 0.24), rng.uniform(0.1, 0.15)]),
        heart_semi_axes=np.array([rng.uniform(0.22, 0.26), rng.uniform(0.25, 0.3)]),
        heart_scale=rng.uniform(1.3, 1.45) if label == "cardiomegaly" else 1.0,
        body_half_width=rng.uniform(0.82, 0.92),
        rib_spacing=rng.uniform(0.14, 0.19),
        rib_phase=rng.uniform(0, 2 * np.pi),
        rib_bend=rng.uniform(0.5, 0.9),
        rib_strength=rng.uniform(0.1, 0.14),
        gain=rng.uniform(0.85, 1.15),
        offset=rng.uniform(-0.05, 0.05),
    )
    if label == "effusion":
        return replace(anatomy, effusion_side=int(rng.choice([-1, 1])), effusion_depth=rng.uniform(0.3, 0.45))
    if label in LESION_KINDS:
        return replace(anatomy, lesions=_sample_lesions(rng, anatomy, label))
    return anatomy


def lung_interior(anatomy: ChestAnatomy, points: np.ndarray, margin: float) -> np.ndarray:
    """Whether anatomy points lie inside a lung, at least `margin` from its edge and clear of the heart.

    Example:
        >>> a = sample_chest(np.random.default_rng(0), "normal")
        >>> bool(lung_interior(a, a.lung_centers()[0], 0.05))
        True
    """
    inside = np.zeros(points.shape[:-1], dtype=bool)
    for center in anatomy.lung_centers():
        inside |= ellipsoid_radius(points, center, anatomy.lung_semi_axes - margin) < 1.0
    heart = ellipsoid_radius(points, anatomy.heart_center, anatomy.heart_semi_axes * anatomy.heart_scale + margin)
    return inside & (heart > 1.0)


def _sample_lesions(rng: np.random.Generator, anatomy: ChestAnatomy, kind: str) -> list[Lesion]:
    # Rejection sampling: lesions inside a lung (a mass may reach its edge) and apart from each other.
    # Later lesions that find no room in a bounded number of tries are left out (the first always fits).
    spec = LESION_KINDS[kind]
    count = int(rng.integers(spec.count[0], spec.count[1] + 1))
    lesions: list[Lesion] = []
    tries = 0
    while len(lesions) < count and (tries < 1000 or not lesions):
        tries += 1
        radius = rng.uniform(*spec.radius_share) * 2.0  # share of the image side -> anatomy units (side = 2)
        center = np.array([rng.uniform(-0.7, 0.45), rng.uniform(-0.65, 0.65)])
        margin = spec.radius_margin * radius + spec.edge_margin
        apart = all(np.linalg.norm(center - other.center) > 1.5 * (radius + other.radius) + 0.05 for other in lesions)
        if apart and lung_interior(anatomy, center, margin):
            lesions.append(Lesion(kind, center, radius, rng.uniform(*spec.contrast)))
    return lesions


def frame_from_pixel(size: int) -> np.ndarray:
    """Homogeneous matrix from (row, col) pixel indices to the image frame (-1..1 across the image).

    Example:
        >>> (frame_from_pixel(5) @ [4, 0, 1]).tolist()
        [1.0, -1.0, 1.0]
    """
    step = 2.0 / (size - 1)
    return np.array([[step, 0.0, -1.0], [0.0, step, -1.0], [0.0, 0.0, 1.0]])


def render_chest(
    anatomy: ChestAnatomy, size: int, rigid: Rigid, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """One radiograph of the patient seen through `rigid`: (image float32 size x size, lesion mask bool,
    findings as {"kind", "center": [row, col], "radius"} in pixels).

    Example:
        >>> a = sample_chest(np.random.default_rng(0), "nodule")
        >>> image, mask, findings = render_chest(a, 64, Rigid(np.eye(2), np.zeros(2)), np.random.default_rng(1))
        >>> image.shape, bool(mask[tuple(findings[0]["center"])])
        ((64, 64), True)
    """
    frame = frame_from_pixel(size)
    points = index_grid_to_anatomy((size, size), frame, rigid)
    edge = 3.0 / size
    body = soft_inside(ellipsoid_radius(points, np.zeros(2), np.array([1.2, anatomy.body_half_width])), edge * 2)
    lungs = np.maximum.reduce(
        [soft_inside(ellipsoid_radius(points, c, anatomy.lung_semi_axes), edge * 4) for c in anatomy.lung_centers()]
    )
    heart_axes = anatomy.heart_semi_axes * anatomy.heart_scale
    heart = soft_inside(ellipsoid_radius(points, anatomy.heart_center, heart_axes), edge * 3)
    spine = soft_inside(np.abs(points[..., 1]) / 0.07, 0.15)
    image = 0.05 + 0.45 * body - anatomy.lung_darkness * lungs * (1.0 - heart) + 0.08 * heart + 0.08 * spine
    image += anatomy.rib_strength * _ribs(points, anatomy) * body
    mask = np.zeros((size, size), dtype=bool)
    findings = []
    if anatomy.heart_scale > 1.0:
        mask |= heart > 0.5
        center = snap_to_grid(anatomy.heart_center, frame, rigid)[0]
        findings.append(_finding("cardiomegaly", center, heart_axes, size))
    if anatomy.effusion_side:
        fluid = _effusion(points, anatomy) * lungs * (1.0 - heart)
        image += anatomy.lung_darkness * 0.85 * fluid
        mask |= fluid > 0.5
        findings.append(_region_finding("effusion", fluid > 0.5))
    for lesion in anatomy.lesions:
        index, center = snap_to_grid(lesion.center, frame, rigid)
        distance = np.linalg.norm(points - center, axis=-1) / lesion.radius
        image += lesion.contrast * soft_inside(distance, 0.2)
        mask |= distance <= 1.0
        findings.append(_finding(lesion.kind, index, np.array([lesion.radius]), size))
    image += 0.05 * _smooth_field(rng, size) + rng.normal(0.0, NOISE_SD, image.shape)
    image = anatomy.gain * image * rng.uniform(0.93, 1.07) + anatomy.offset + rng.uniform(-0.02, 0.02)
    return np.clip(image, 0.0, 1.0).astype(np.float32), mask, findings


def _ribs(points: np.ndarray, anatomy: ChestAnatomy) -> np.ndarray:
    # Curved bands across the thorax: rows bend down towards the sides, repeating every `rib_spacing`.
    row, col = points[..., 0], points[..., 1]
    position = row - anatomy.rib_bend * (np.abs(col) - 0.1) ** 2
    bands = np.clip(np.cos(2 * np.pi * position / anatomy.rib_spacing + anatomy.rib_phase), 0.0, None) ** 0.7
    thorax = soft_inside(np.abs(row + 0.15) / 0.62, 0.08) * soft_inside(np.abs(col) / 0.72, 0.08)
    return bands * thorax * (1.0 - soft_inside(np.abs(col) / 0.08, 0.2))


def _effusion(points: np.ndarray, anatomy: ChestAnatomy) -> np.ndarray:
    # Fluid filling the base of one lung, its surface (meniscus) climbing towards the chest wall.
    lung_half_height, lung_half_width = anatomy.lung_semi_axes
    lateral = (points[..., 1] * anatomy.effusion_side - anatomy.lung_col) / lung_half_width
    level = anatomy.lung_row + lung_half_height * (1.0 - 2.0 * anatomy.effusion_depth)
    surface = level - 0.25 * lung_half_height * np.clip(lateral + 1.0, 0.0, 2.0) ** 2 / 4.0
    same_side = points[..., 1] * anatomy.effusion_side > 0
    return same_side / (1.0 + np.exp(-np.clip((points[..., 0] - surface) / 0.02, -50.0, 50.0)))


def _smooth_field(rng: np.random.Generator, size: int) -> np.ndarray:
    field_ = ndimage.gaussian_filter(rng.normal(size=(size, size)), sigma=size / 8.0, mode="reflect")
    return field_ / (field_.std() + 1e-8)


def _finding(kind: str, center: np.ndarray, semi_axes: np.ndarray, size: int) -> dict:
    # Anatomy units -> pixels: the image side (2 units) spans size - 1 pixel steps.
    radius = float(np.mean(semi_axes)) * (size - 1) / 2.0
    return {"kind": kind, "center": [int(c) for c in center], "radius": round(radius, 2)}


def _region_finding(kind: str, region: np.ndarray) -> dict:
    # An irregular region is recorded by its centroid and the radius of the disc of equal area.
    rows, cols = np.nonzero(region)
    center = [int(round(rows.mean())), int(round(cols.mean()))]
    return {"kind": kind, "center": center, "radius": round(float(np.sqrt(rows.size / np.pi)), 2)}
