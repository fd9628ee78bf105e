"""The cohorts the saliency benchmark measures on: medtl.synth's own nodule X-rays and MRI lesions, and a second
X-ray cohort made differently (other proportions, lesion shapes, sizes, contrasts, prevalence, file format)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from medtl.synth import make_mri, make_xray

OTHER_PREVALENCE = 0.35
OTHER_PADDING = 0.12  # black columns each side, as a share of the width: a 1:1.3 letterboxed radiograph


def medtl_xray(out: Path, patients: int, seed: int, size: int) -> Path:
    """medtl.synth's nodule cohort (DICOM, two images per patient, half the patients with 1-3 nodules)."""
    return make_xray(out, patients=patients, seed=seed, size=size, images_per_patient=(2, 2))


def medtl_mri(out: Path, patients: int, seed: int, side: int) -> Path:
    """medtl.synth's brain MRI cohort (NIfTI, one volume per patient, half with one lesion)."""
    return make_mri(out, patients=patients, seed=seed, shape=(side, side, side), spacing=(1.5, 1.5, 1.5),
                    volumes_per_patient=(1, 1))


def other_xray(out: Path, patients: int, seed: int, size: int) -> Path:
    """A cohort made differently from `medtl_xray`: medtl's normal chest phantoms, letterboxed with black columns
    (`OTHER_PADDING` of the width each side), 8-bit PNG; `OTHER_PREVALENCE` of the patients get one or two
    lesions pasted here: ellipses (axis ratio 0.5-1, any angle) or lobulated blobs of three discs, radius 2.5-7%
    of the side, contrast 0.08-0.30, anywhere in the lung fields. Classes "clear" / "lesion"; masks kept.

    Example:
        >>> other_xray(tmp_path / "other", patients=6, seed=1, size=64)  # doctest: +SKIP
    """
    base = make_xray(out.with_name(out.name + "-base"), patients=patients, seed=seed + 1000, size=size,
                     fmt="png", images_per_patient=(1, 2))
    cases = pd.read_csv(base / "cases.csv", dtype=str)
    rng = np.random.default_rng(seed)
    sick = set(rng.choice(cases["patient_id"].unique(), size=max(1, round(OTHER_PREVALENCE * patients)),
                          replace=False))
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(exist_ok=True)
    rows = []
    for case in cases.itertuples():
        pixels = np.asarray(Image.open(base / case.path), dtype=np.float64)
        image = pixels / (65535.0 if pixels.max() > 255 else 255.0)
        mask = np.zeros(image.shape, bool)
        if case.patient_id in sick:
            for _ in range(int(rng.integers(1, 3))):
                lesion = _lesion(rng, image.shape)
                image = np.clip(image + rng.uniform(0.08, 0.30) * lesion, 0.0, 1.0)
                mask |= lesion > 0.5
        pad = round(OTHER_PADDING * image.shape[1])
        name = f"{case.patient_id}-{Path(case.path).stem}"
        label = "lesion" if case.patient_id in sick else "clear"
        Image.fromarray(np.pad(np.rint(image * 255), ((0, 0), (pad, pad))).astype(np.uint8)).save(
            out / "images" / f"{name}.png")
        Image.fromarray(np.pad(mask, ((0, 0), (pad, pad))).astype(np.uint8) * 255).save(out / "masks" / f"{name}.png")
        rows.append({"path": f"images/{name}.png", "label": label, "patient_id": case.patient_id,
                     "mask": f"masks/{name}.png"})
    pd.DataFrame(rows).to_csv(out / "cases.csv", index=False)
    return out


def _lesion(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A soft-edged ellipse or three-disc blob (0..1) in one of the lung fields."""
    rows, cols = np.mgrid[: shape[0], : shape[1]] / np.array(shape)[:, None, None]
    side = rng.choice([0.3, 0.7])
    center = np.array([rng.uniform(0.3, 0.65), side + rng.uniform(-0.08, 0.08)])
    radius = rng.uniform(0.025, 0.07)
    if rng.random() < 0.5:
        angle, ratio = rng.uniform(0, np.pi), rng.uniform(0.5, 1.0)
        du, dv = rows - center[0], cols - center[1]
        along = (du * np.cos(angle) + dv * np.sin(angle)) / radius
        across = (-du * np.sin(angle) + dv * np.cos(angle)) / (radius * ratio)
        distance = np.hypot(along, across)
    else:
        offsets = rng.normal(0, 0.6 * radius, (3, 2))
        distance = np.min([np.hypot(rows - center[0] - o[0], cols - center[1] - o[1]) / (0.7 * radius)
                           for o in offsets], axis=0)
    return np.clip((1.0 - distance) / 0.3 + 0.5, 0.0, 1.0)
