"""A brain-MRI cohort drawn without medtl.synth: its own anatomy (a tilted ellipsoidal head with a bright scalp fat
layer over dark bone, a CSF rim, a cortical band with gyri and sulci, the interhemispheric fissure, curved lateral
ventricles), T1-like contrast under a multiplicative bias field, Rician noise, and one bright irregular white-matter
lesion in exactly half the patients. Volumes are int16 NIfTI in LPS-ordered voxels (affine diagonal -sx, -sy, +sz,
origin off centre), each scanned to its own intensity range; lesion masks are uint8 NIfTI.

Example:
    >>> brain_cohort(tmp_path / "b", patients=6, seed=0, shape=(24, 24, 16))  # doctest: +SKIP
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import NamedTuple

import nibabel as nib
import numpy as np
from scipy.ndimage import distance_transform_edt, gaussian_filter

# Head extent over the field of view along each axis (left-right narrower than front-back).
FILL = {"lr": (0.70, 0.82), "ap": (0.78, 0.90), "si": (0.75, 0.90)}
SHIFT_VOXELS = 3.0  # largest offset of the head centre, in voxels (at most 5% of the side)
TILT_DEGREES = 10.0  # largest in-plane rotation of the head
# Layers under the surface of the head, as shares of its semi-axes, outside in.
FAT = (0.03, 0.045)
BONE = (0.06, 0.09)
CSF_RIM = (0.025, 0.04)
CORTEX = (0.09, 0.13)
# T1-like tissue intensities before bias, noise and scanner scaling (white brighter than grey, fluid and bone dark).
TISSUE = {"fat": (0.92, 1.0), "bone": (0.03, 0.07), "csf": (0.12, 0.18), "grey": (0.40, 0.47),
          "white": (0.62, 0.70)}
VENTRICLE_SIZE = (0.7, 1.5)  # scale of the lateral ventricles' width and height
LESION_RADIUS = (0.07, 0.14)  # lesion radius over the head's mean in-plane semi-axis, both in voxels
LESION_WOBBLE = (0.15, 0.3)  # low-frequency modulation of the lesion radius, relative
LESION_CONTRAST = (0.25, 0.45)  # lesion intensity over white matter, relative
LESION_EDGE = 1.5  # voxels over which the lesion fades into white matter (partial volume)
EDGE = 1.0  # voxels over which tissue borders blend
TEXTURE = 0.03  # relative SD of the smoothed tissue texture
BIAS = 0.1  # strength of the multiplicative bias field (log scale)
NOISE_SD = 0.025  # SD of each channel of the complex noise, fat at about 1
PEAK = (600, 3000)  # brightest stored value, per patient


class Patient(NamedTuple):
    """One drawn volume: `image` (int16), `mask` (uint8 lesion label), `brain` (inside the pial surface),
    `white` (white matter outside ventricles, fissure and lesion), `affine` (voxel -> RAS mm)."""

    image: np.ndarray
    mask: np.ndarray
    brain: np.ndarray
    white: np.ndarray
    affine: np.ndarray


def brain_cohort(out: Path, patients: int = 40, seed: int = 0, shape: tuple[int, int, int] = (64, 64, 40),
                 spacing: tuple[float, float, float] = (1.2, 1.2, 2.0), layout: str = "folders") -> Path:
    """Write `patients` brain volumes (exactly `patients // 2` with a lesion) to `out` and the scoring table
    `out`/truth.csv (patient_id, label, lesion_voxels, image, mask); returns `out`.

    `layout` "folders": class folders `out`/images/normal/<pid>.nii.gz and `out`/images/lesion/<pid>.nii.gz (the
    `data.root` of a classification run), masks kept aside in `out`/masks.
    `layout` "msd": Medical Segmentation Decathlon, `out`/imagesTr, `out`/labelsTr and `out`/dataset.json.
    """
    if layout not in ("folders", "msd"):
        raise ValueError(f"layout must be 'folders' or 'msd'. Got {layout!r} instead.")
    rng = np.random.default_rng(seed)
    sick = np.zeros(patients, dtype=bool)
    sick[rng.choice(patients, patients // 2, replace=False)] = True
    rows = []
    for p in range(patients):
        pid, label = f"sub-{p + 1:03d}", "lesion" if sick[p] else "normal"
        drawn = draw_patient(seed, p, bool(sick[p]), shape, spacing)
        image, mask = (f"images/{label}/{pid}.nii.gz", f"masks/{pid}.nii.gz") if layout == "folders" else \
            (f"imagesTr/{pid}.nii.gz", f"labelsTr/{pid}.nii.gz")
        _write_nifti(out / image, drawn.image, drawn.affine)
        _write_nifti(out / mask, drawn.mask, drawn.affine)
        rows.append({"patient_id": pid, "label": label, "lesion_voxels": int(drawn.mask.sum()), "image": image,
                     "mask": mask})
    with open(out / "truth.csv", "w", newline="") as table:
        writer = csv.DictWriter(table, fieldnames=list(rows[0]) if rows else ["patient_id"])
        writer.writeheader()
        writer.writerows(rows)
    if layout == "msd":
        (out / "dataset.json").write_text(json.dumps({
            "name": "BrainPhantom",
            "description": "T1-like brain MRI, one bright white-matter lesion in half the subjects",
            "tensorImageSize": "3D",
            "modality": {"0": "MRI"},
            "labels": {"0": "background", "1": "lesion"},
            "numTraining": patients,
            "numTest": 0,
            "training": [{"image": f"./{row['image']}", "label": f"./{row['mask']}"} for row in rows],
            "test": [],
        }, indent=2))
    return out


def draw_patient(seed: int, index: int, lesion: bool, shape: tuple[int, int, int] = (64, 64, 40),
                 spacing: tuple[float, float, float] = (1.2, 1.2, 2.0)) -> Patient:
    """Patient `index` of the cohort drawn with `seed` (its own generator, seeded [seed, index]), with or without
    a lesion."""
    rng = np.random.default_rng([seed, index])
    sx, sy, _ = spacing
    frame, semi = _head_frame(rng, shape, spacing)
    xn, yn, zn = (frame[a] / semi[a] for a in range(3))
    r = np.sqrt(xn ** 2 + yn ** 2 + zn ** 2)
    reach = (semi[0] / sx + semi[1] / sy) / 2  # mean in-plane semi-axis, voxels

    def inside(border: np.ndarray | float) -> np.ndarray:
        return np.clip(0.5 + (border - r) * reach / EDGE, 0.0, 1.0)

    level = {name: rng.uniform(*span) for name, span in TISSUE.items()}
    fat, bone, rim, cortex = (rng.uniform(*span) for span in (FAT, BONE, CSF_RIM, CORTEX))
    pial_base = 1.0 - fat - bone - rim
    folds = _smooth_noise(rng, shape, [0.06 * semi.mean() / s for s in spacing])
    pial = pial_base - 0.9 * cortex * np.clip(-folds - 0.4, 0.0, 1.0)  # sulci: fluid dips into the cortex
    grey_white = np.minimum(pial_base - cortex + 0.4 * cortex * folds, pial - 0.35 * cortex)  # gyral crowns

    ventricles, middle, extent = _ventricles(rng, xn, yn, zn, reach)
    arch = middle + extent[1] * np.sqrt(np.clip(1 - (yn / extent[0]) ** 2, 0, 1))
    midline = (np.abs(yn) > extent[0]) | (zn > arch)  # all but the callosum and the deep grey below it
    fissure = np.clip(0.5 + (0.8 - np.abs(frame[0])) / (EDGE * sx), 0.0, 1.0) * midline
    medial = np.clip(0.5 + (0.8 + cortex * semi[0] - np.abs(frame[0])) / (EDGE * sx), 0.0, 1.0) * midline

    volume = np.zeros(shape)
    for share, value in ((inside(1.0), level["fat"]), (inside(1.0 - fat), level["bone"]),
                         (inside(1.0 - fat - bone), level["csf"]), (inside(pial), level["grey"]),
                         (inside(grey_white) * (1 - medial), level["white"]), (fissure * inside(pial), level["csf"]),
                         (ventricles, level["csf"])):
        volume += share * (value - volume)
    brain = inside(pial) >= 0.5
    white = (inside(grey_white) >= 0.5) & (medial == 0) & (ventricles == 0)

    soft = np.zeros(shape)
    if lesion:
        soft = _lesion(rng, white, reach)
        volume += soft * (level["white"] * (1 + rng.uniform(*LESION_CONTRAST)) - volume)
    mask = soft >= 0.5

    volume *= 1 + TEXTURE * _smooth_noise(rng, shape, [0.8] * 3)
    volume *= _bias(rng, shape)
    volume = np.hypot(volume + rng.normal(0.0, NOISE_SD, shape), rng.normal(0.0, NOISE_SD, shape))
    image = np.rint(volume * rng.uniform(*PEAK) / volume.max()).astype(np.int16)
    return Patient(image, mask.astype(np.uint8), brain, white & (soft == 0), _affine(rng, shape, spacing))


def _head_frame(rng: np.random.Generator, shape: tuple[int, int, int],
                spacing: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Every voxel's position in the head's own frame (mm; left, posterior, superior as the voxel axes, turned
    in-plane), and the head's semi-axes (mm)."""
    side = np.array(shape) * np.array(spacing)
    semi = side / 2 * np.array([rng.uniform(*FILL[a]) for a in ("lr", "ap", "si")])
    shift = rng.uniform(-1, 1, 3) * np.minimum(SHIFT_VOXELS, 0.05 * np.array(shape))
    centre = (np.array(shape) - 1) / 2 + shift
    turn = np.deg2rad(rng.uniform(-TILT_DEGREES, TILT_DEGREES))
    i, j, k = (np.arange(n) - c for n, c in zip(shape, centre))
    di, dj, dk = np.meshgrid(i * spacing[0], j * spacing[1], k * spacing[2], indexing="ij")
    frame = np.stack([np.cos(turn) * di + np.sin(turn) * dj, -np.sin(turn) * di + np.cos(turn) * dj, dk])
    return frame, semi


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int, int], sigma: list[float]) -> np.ndarray:
    """Gaussian-smoothed white noise of unit SD."""
    field = gaussian_filter(rng.normal(size=shape), sigma)
    return field / (field.std() + 1e-12)


def _ventricles(rng: np.random.Generator, xn: np.ndarray, yn: np.ndarray, zn: np.ndarray,
                reach: float) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Soft lateral ventricles (0..1): two bent ellipsoids, frontal horns close together, bodies diverging behind and
    arching upward; with the pair's height and the front-back and up-down semi-axes of the midline region they and
    the callosum take (head-normalised units)."""
    size = rng.uniform(*VENTRICLE_SIZE)
    width, height, half_length = 0.11 * size, 0.18 * size, rng.uniform(0.34, 0.42)
    gap, spread, arch = width + rng.uniform(0.015, 0.03), rng.uniform(0.25, 0.4), rng.uniform(0.3, 0.6)
    lift, front = rng.uniform(0.08, 0.15), -half_length * rng.uniform(0.7, 0.9)
    pair = np.zeros(xn.shape)
    for side in (-1.0, 1.0):
        across = (xn - side * (gap + spread * (yn - front) ** 2)) / width
        along = yn / half_length
        up = (zn - lift + arch * yn ** 2) / height
        depth = 1.0 - np.sqrt(across ** 2 + along ** 2 + up ** 2)
        pair = np.maximum(pair, np.clip(0.5 + depth * width * reach / EDGE, 0.0, 1.0))
    return pair, lift, (half_length + 0.08, height + 0.08)


def _lesion(rng: np.random.Generator, white: np.ndarray, reach: float) -> np.ndarray:
    """A soft lesion (0..1) wholly inside `white`: a sphere (in voxels) whose radius varies over its surface by a
    random quadratic form of the direction."""
    radius = rng.uniform(*LESION_RADIUS) * reach
    wobble = rng.uniform(*LESION_WOBBLE)
    form = rng.normal(size=(3, 3))
    form = (form + form.T) / 2 - np.trace(form) / 3 * np.eye(3)
    tilt = rng.normal(0.0, 0.5, 3)
    sphere = rng.normal(size=(256, 3))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    scale = np.abs(np.einsum("ni,ij,nj->n", sphere, form, sphere) + sphere @ tilt).max()
    room = distance_transform_edt(white)
    while True:  # shrink until the lesion fits in white matter
        fits = np.argwhere(room >= radius * (1 + wobble) + LESION_EDGE / 2 + 0.5)
        if len(fits) or radius < 0.5:
            break
        radius *= 0.85
    centre = fits[rng.integers(len(fits))] if len(fits) else np.array(np.unravel_index(room.argmax(), room.shape))
    offset = np.stack(np.meshgrid(*(np.arange(n) - c for n, c in zip(white.shape, centre)), indexing="ij"), -1)
    distance = np.linalg.norm(offset, axis=-1)
    direction = offset / np.maximum(distance, 1e-9)[..., None]
    lump = np.einsum("...i,ij,...j->...", direction, form, direction) + direction @ tilt
    border = radius * (1 + wobble * lump / scale)
    return np.clip(0.5 + (border - distance) / LESION_EDGE, 0.0, 1.0) * white


def _bias(rng: np.random.Generator, shape: tuple[int, int, int]) -> np.ndarray:
    """A smooth multiplicative field: the exponential of three long-wave cosines across the field of view."""
    grid = np.stack(np.meshgrid(*(np.linspace(-0.5, 0.5, n) for n in shape), indexing="ij"), -1)
    log_gain = np.zeros(shape)
    for _ in range(3):
        wave = rng.normal(0.0, 0.5, 3)
        log_gain += rng.normal(0.0, 1.0) / np.sqrt(3) * np.cos(2 * np.pi * grid @ wave + rng.uniform(0, 2 * np.pi))
    return np.exp(BIAS * log_gain)


def _affine(rng: np.random.Generator, shape: tuple[int, int, int], spacing: tuple[float, float, float]) -> np.ndarray:
    """Voxel -> RAS mm for LPS-ordered voxels (diagonal -sx, -sy, +sz), origin off the volume's centre."""
    sx, sy, sz = spacing
    affine = np.diag([-sx, -sy, sz, 1.0])
    centred = np.array([sx * (shape[0] - 1) / 2, sy * (shape[1] - 1) / 2, -sz * (shape[2] - 1) / 2])
    affine[:3, 3] = np.round(centred + rng.uniform([-20, -30, -60], [20, 10, -10]), 2)
    return affine


def _write_nifti(path: Path, data: np.ndarray, affine: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = nib.Nifti1Image(data, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    image.header.set_xyzt_units("mm")
    nib.save(image, str(path))
