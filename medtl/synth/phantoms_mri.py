"""Brain-MRI-like phantoms: head with a bright skull shell, grey and white matter under a smooth bias field,
a butterfly pair of dark ventricles, magnitude (Rician) noise, and the findings of the patient's label.

Coordinates are anatomy (x right, y anterior, z superior, as in RAS) in units of
`unit_mm` millimetres, about -1..1 across the head. Shapes are drawn in world space, so a volume written with
an oblique or flipped affine shows the same head.

Two target styles (`STYLES`) make cohorts that differ the way two sites' data do: "medtl" (T1-like tissue
contrast, one round bright lesion) and "second" (T2-like grey/white contrast, fainter irregular lesions made
of two or three overlapping blobs, a wider range of sizes). The source task (`SOURCE_LABELS`) is a relative of
both: several small bright lesions, dark (hypointense) lesions, a large mass with surrounding oedema, atrophy;
its heads draw every tissue's intensity on their own (scalp and bone from dark to bright, grey and white matter in
either order), so its models meet many sequences and scanners.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial.transform import Rotation

from medtl.synth.geometry import Rigid, ellipsoid_radius, index_grid_to_anatomy, snap_to_grid, soft_inside

MRI_LABELS = ("normal", "lesion")
SOURCE_LABELS = ("normal", "atrophy", "hypointense", "mass", "small_lesions")
MAX_LESION_RADIUS = 0.16  # anatomy units: on coarse grids the lesion stays small against the brain
NOISE_SD = 0.03
MAX_CLEARANCE = 0.1  # anatomy units a lesion keeps from the ventricles beyond its own extent, at most
_PLACEMENT_TRIES = 1000


@dataclass(frozen=True)
class LesionStyle:
    """How a style draws its lesions: radius in in-plane voxels (capped at `max_radius` anatomy units),
    added intensity, and how many overlapping blobs make one lesion.

    Example:
        >>> STYLES["second"].blobs
        (2, 3)
    """

    radius_voxels: tuple[float, float]
    contrast: tuple[float, float]
    blobs: tuple[int, int] = (1, 1)
    max_radius: float = MAX_LESION_RADIUS
    t2_like: bool = False


STYLES = {
    "medtl": LesionStyle(radius_voxels=(2.0, 3.0), contrast=(0.3, 0.4)),
    "second": LesionStyle(radius_voxels=(1.5, 3.5), contrast=(0.22, 0.35), blobs=(2, 3), max_radius=0.2,
                          t2_like=True),
}
_SMALL_LESIONS = LesionStyle(radius_voxels=(1.2, 3.0), contrast=(0.15, 0.5), blobs=(1, 2))


@dataclass(frozen=True)
class Lesion:
    """One finding: `kind`, and one or more overlapping ellipsoid blobs (centres and semi-axes in anatomy
    units; the first blob's centre is the finding's recorded centre) adding `contrast` to the tissue, with an
    optional `rim` of oedema (added intensity within 1.7 radii).

    Example:
        >>> Lesion("lesion", np.zeros((1, 3)), np.full((1, 3), 0.1), 0.3).blob_centers.shape
        (1, 3)
    """

    kind: str
    blob_centers: np.ndarray
    blob_semi_axes: np.ndarray
    contrast: float
    rim: float = 0.0

    def radius(self, points: np.ndarray, first_center: np.ndarray) -> np.ndarray:
        """Normalised radius of the nearest blob (below 1 inside), with the first blob moved to `first_center`."""
        shift = first_center - self.blob_centers[0]
        return np.min([ellipsoid_radius(points, c + shift, a) for c, a in zip(self.blob_centers, self.blob_semi_axes)],
                      axis=0)


@dataclass(frozen=True)
class HeadAnatomy:
    """One patient's head: shape, tissue intensities, bias field and findings (none for a normal patient).

    Example:
        >>> sample_head(np.random.default_rng(0), "normal", 0.06).lesions
        ()
    """

    head_semi_axes: np.ndarray
    skull_share: float
    ventricle_offset: np.ndarray
    ventricle_semi_axes: np.ndarray
    ventricle_degrees: float
    grey: float
    white: float
    bias: np.ndarray
    lesions: tuple[Lesion, ...] = ()
    scalp: float = 0.9
    skull: float = 0.9
    ventricle: float = 0.12

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


def sample_head(rng: np.random.Generator, label: str, voxel_units: float, style: str = "medtl") -> HeadAnatomy:
    """A random head for a patient with `label` (one of `MRI_LABELS` or `SOURCE_LABELS`) in `style` (one of
    `STYLES`); `voxel_units` is one in-plane voxel in anatomy units, setting the size of small lesions.

    Example:
        >>> len(sample_head(np.random.default_rng(0), "lesion", 0.06).lesions)
        1
    """
    lesion_style = STYLES[style]
    grey, white = rng.uniform(0.45, 0.52), rng.uniform(0.62, 0.7)
    head = HeadAnatomy(
        head_semi_axes=np.array([0.78, 0.9, 0.76]) * rng.uniform(0.92, 1.0) + rng.uniform(-0.02, 0.02, 3),
        skull_share=rng.uniform(0.1, 0.14),
        ventricle_offset=np.array([rng.uniform(0.07, 0.09), rng.uniform(0.0, 0.06), rng.uniform(0.05, 0.12)]),
        ventricle_semi_axes=np.array([rng.uniform(0.04, 0.06), rng.uniform(0.2, 0.26), rng.uniform(0.08, 0.11)]),
        ventricle_degrees=rng.uniform(10.0, 20.0),
        grey=white if lesion_style.t2_like else grey,
        white=grey if lesion_style.t2_like else white,
        bias=rng.uniform(-0.1, 0.1, 4),
    )
    if label in SOURCE_LABELS:
        head = _random_contrast(rng, head)
    if label == "normal":
        return head
    if label == "lesion":
        return replace(head, lesions=(_lesion(rng, head, "lesion", lesion_style, voxel_units),))
    if label == "small_lesions":
        count = int(rng.integers(1, 5))
        return replace(head, lesions=tuple(_lesion(rng, head, "lesion", _SMALL_LESIONS, voxel_units)
                                           for _ in range(count)))
    if label == "hypointense":
        dark = LesionStyle(radius_voxels=(2.0, 4.0), contrast=(-0.3, -0.18), max_radius=0.22)
        return replace(head, lesions=tuple(_lesion(rng, head, "hypointense", dark, voxel_units)
                                           for _ in range(int(rng.integers(1, 3)))))
    if label == "mass":
        radius = rng.uniform(0.16, 0.26)
        big = LesionStyle(radius_voxels=(radius / voxel_units,) * 2, contrast=(0.15, 0.3), max_radius=radius)
        return replace(head, lesions=(replace(_lesion(rng, head, "mass", big, voxel_units), rim=-0.15),))
    if label == "atrophy":
        return replace(head, ventricle_semi_axes=head.ventricle_semi_axes * rng.uniform(1.5, 1.9),
                       skull_share=head.skull_share + rng.uniform(0.03, 0.05))
    raise ValueError(f"label must be one of {sorted({*MRI_LABELS, *SOURCE_LABELS})}. Got {label!r} instead.")


def _random_contrast(rng: np.random.Generator, head: HeadAnatomy) -> HeadAnatomy:
    """The source task's tissue intensities, each drawn on its own (domain randomisation, as SynthSeg trains its
    networks): outer and inner halves of the shell (fat, bone) anywhere from dark to bright, grey and white
    matter in either order, dark fluid; so that a source model meets scanners and sequences as a family."""
    grey, white = rng.uniform(0.35, 0.75, 2)
    return replace(head, scalp=rng.uniform(0.05, 1.0), skull=rng.uniform(0.05, 1.0), grey=grey, white=white,
                   ventricle=rng.uniform(0.02, 0.25))


def _lesion(rng: np.random.Generator, head: HeadAnatomy, kind: str, style: LesionStyle,
            voxel_units: float) -> Lesion:
    """A lesion placed uniformly within the brain (whole lesion inside), clear of the ventricles."""
    radius = min(rng.uniform(*style.radius_voxels) * voxel_units, style.max_radius)
    count = int(rng.integers(style.blobs[0], style.blobs[1] + 1))
    semi_axes = radius * np.column_stack([np.ones(count), rng.uniform(0.8, 1.2, (count, 2))])
    offsets = np.vstack([np.zeros(3), rng.normal(0.0, 0.6 * radius, (count - 1, 3))])
    extent = semi_axes.max() + np.abs(offsets).max()
    room = head.brain_semi_axes() - extent - 0.06
    clearance = min(extent, MAX_CLEARANCE) + 0.03  # a large mass may reach towards a ventricle
    for _ in range(_PLACEMENT_TRIES):  # rejection sampling: uniform within the brain (lesion included)
        direction = rng.normal(size=3)
        center = room * direction / np.linalg.norm(direction) * rng.uniform() ** (1.0 / 3.0)
        if head.ventricle_radius(center, clearance) > 1.0:
            return Lesion(kind, center + offsets, semi_axes, float(rng.uniform(*style.contrast)))
    raise ValueError(f"a {kind} lesion of radius {radius:.2f} (anatomy units) does not fit beside the ventricles; "
                     "use a finer voxel grid")


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
    mid_shell = anatomy.head_semi_axes * (1.0 - anatomy.skull_share / 2)
    inner_shell = soft_inside(ellipsoid_radius(points, np.zeros(3), mid_shell), edge)
    white = soft_inside(brain_radius / 0.72, 0.08) * brain
    ventricles = soft_inside(anatomy.ventricle_radius(points), 0.1)
    bias = 1.0 + points @ anatomy.bias[:3] + anatomy.bias[3] * (points**2).sum(axis=-1)
    tissue = anatomy.grey * brain + (anatomy.white - anatomy.grey) * white
    shell = anatomy.scalp * (head - inner_shell) + anatomy.skull * (inner_shell - brain)
    volume = shell + tissue * (1.0 - ventricles) + anatomy.ventricle * ventricles * brain
    mask = np.zeros(shape, dtype=bool)
    findings = []
    for lesion in anatomy.lesions:
        index, center = snap_to_grid(lesion.blob_centers[0], frame_from_index, rigid)
        lesion_radius = lesion.radius(points, center)
        volume += lesion.contrast * soft_inside(lesion_radius, 0.15)
        if lesion.rim:
            volume += lesion.rim * soft_inside(lesion_radius / 1.7, 0.1) * (lesion_radius > 1.0) * brain
        mask |= lesion_radius <= 1.0
        world = affine[:3, :3] @ index + affine[:3, 3]
        findings.append({
            "kind": lesion.kind,
            "voxel": [int(i) for i in index],
            "world": [round(float(w), 3) for w in world],
            "radius": round(float(lesion.blob_semi_axes[0].mean() * unit_mm), 2),
        })
    volume = volume * bias
    noisy = np.hypot(volume + rng.normal(0.0, NOISE_SD, shape), rng.normal(0.0, NOISE_SD, shape))
    return noisy.astype(np.float32), mask, findings
