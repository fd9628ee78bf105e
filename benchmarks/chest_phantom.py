"""A chest X-ray cohort drawn without medtl.synth: its own anatomy (superellipse body and lungs, a heart of varying
width, rib arcs, clavicles, diaphragm domes, vessel texture), one solid nodule of 9-15 px radius (at 256^2) on
every image of the positive patients, 16-bit MONOCHROME2 DICOM without a VOI window (written by SimpleITK), masks
as PNG.

Example:
    >>> nodule_cohort(tmp_path / "c", patients=6, seed=0)  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
from PIL import Image
from scipy.ndimage import gaussian_filter, minimum_filter

PREVALENCE = 0.4  # share of patients with a nodule
RADIUS_PX = (9.0, 15.0)  # nodule radius at 256^2, scaled with the side
IMAGES_PER_PATIENT = (1, 3)
# Nodule height over the lung (whose field is 0.35 darker than soft tissue). Set so that `medtl cv
# configs/demo_xray.yaml` learns the task about as well as on the cohort the saliency issue describes (pooled
# patient AUC 0.946): at 0.12-0.22 under stronger vessel texture it reached 0.405.
CONTRAST = (0.2, 0.35)


def nodule_cohort(out: Path, patients: int, seed: int, size: int = 256) -> Path:
    """Write `patients` patients' radiographs (1-3 each) to `out`/images, masks to `out`/masks and the manifest
    `out`/cases.csv (path, label normal/nodule, patient_id, mask); returns `out`."""
    rng = np.random.default_rng(seed)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(exist_ok=True)
    sick = rng.random(patients) < PREVALENCE
    rows = []
    for p in range(patients):
        body = _body(rng, size)
        spot = _nodule_site(rng, body, size) if sick[p] else None
        for k in range(int(rng.integers(IMAGES_PER_PATIENT[0], IMAGES_PER_PATIENT[1] + 1))):
            image, mask = _radiograph(rng, body, spot, size)
            name = f"C{p:03d}-{k}"
            _write_dicom(out / "images" / f"{name}.dcm", image, f"C{p:03d}")
            Image.fromarray(mask.astype(np.uint8) * 255).save(out / "masks" / f"{name}.png")
            rows.append({"path": f"images/{name}.dcm", "label": "nodule" if sick[p] else "normal",
                         "patient_id": f"C{p:03d}", "mask": f"masks/{name}.png"})
    pd.DataFrame(rows).to_csv(out / "cases.csv", index=False)
    return out


def _body(rng: np.random.Generator, size: int) -> dict:
    """One patient's anatomy, in units of the side (0..1)."""
    return {"width": rng.uniform(0.36, 0.46), "height": rng.uniform(0.40, 0.48), "top": rng.uniform(0.10, 0.18),
            "lung_w": rng.uniform(0.13, 0.17), "lung_h": rng.uniform(0.28, 0.36), "gap": rng.uniform(0.04, 0.08),
            "heart": rng.uniform(0.10, 0.17), "rib_gap": rng.uniform(0.055, 0.075), "dome": rng.uniform(0.03, 0.07)}


def _lungs(body: dict, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Soft lung fields (0..1): superellipses either side of the midline, cut by the heart on the left."""
    cy = body["top"] + body["lung_h"] + 0.04
    fields = np.zeros_like(rows)
    for side in (-1, 1):
        cx = 0.5 + side * (body["gap"] + body["lung_w"])
        u, v = (cols - cx) / body["lung_w"], (rows - cy) / body["lung_h"]
        inside = np.abs(u) ** 2.5 + np.abs(v) ** 2.5
        above_dome = rows < cy + 0.6 * body["lung_h"] - body["dome"] * np.clip(1 - u ** 2, 0, 1)
        fields = np.maximum(fields, np.clip((1.0 - inside) / 0.15, 0, 1) * above_dome)
    heart = np.hypot((cols - 0.54) / body["heart"], (rows - cy - 0.03) / 0.12) < 1.0
    return fields * ~heart


def _nodule_site(rng: np.random.Generator, body: dict, size: int) -> tuple[float, float, float]:
    """(row, col, radius in px) inside a lung field."""
    rows, cols = np.mgrid[:size, :size] / size
    radius = rng.uniform(*RADIUS_PX) * size / 256
    deep = minimum_filter(_lungs(body, rows, cols), size=2 * round(radius) + 1)  # the whole nodule in the lung
    r, c = np.argwhere(deep > 0.9)[rng.integers(np.count_nonzero(deep > 0.9))]
    return float(r), float(c), float(radius)


def _radiograph(rng: np.random.Generator, body: dict, spot: tuple | None, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One exposure (0..1, bright = dense) and its nodule mask."""
    rows, cols = np.mgrid[:size, :size] / size
    rows = rows + rng.uniform(-0.02, 0.02)
    cols = cols + rng.uniform(-0.02, 0.02)
    u, v = (cols - 0.5) / body["width"], (rows - 0.55) / body["height"]
    torso = np.clip((1.0 - (np.abs(u) ** 4 + np.abs(v) ** 4)) / 0.1, 0, 1)
    lungs = _lungs(body, rows, cols)
    ribs = 0.5 + 0.5 * np.cos(2 * np.pi * (rows - 0.3 * (cols - 0.5) ** 2 * 4) / body["rib_gap"])
    clavicle = np.exp(-(((rows - body["top"] - 0.02) - 0.25 * np.abs(cols - 0.5)) / 0.012) ** 2)
    vessels = gaussian_filter(rng.normal(size=(size, size)), size / 90)
    image = 0.55 * torso - 0.35 * lungs + 0.12 * lungs * ribs ** 3 + 0.15 * clavicle * torso
    image += 0.03 * lungs * vessels / (vessels.std() + 1e-9)
    mask = np.zeros((size, size), bool)
    if spot is not None:
        r, c, radius = spot
        r, c = r + rng.normal(0, 0.01 * size), c + rng.normal(0, 0.01 * size)
        distance = np.hypot(np.arange(size)[:, None] - r, np.arange(size)[None, :] - c) / radius
        image += rng.uniform(*CONTRAST) * np.sqrt(np.clip(1 - distance ** 2, 0, 1))
        mask = distance < 1.0
    image = image * rng.uniform(0.8, 1.2) + rng.uniform(-0.05, 0.05) + 0.1 * (rows - 0.5) * rng.uniform(-1, 1)
    image = gaussian_filter(image, 0.6) + rng.normal(0, 0.015, image.shape)
    return np.clip(image, 0, 1), mask


def _write_dicom(path: Path, image: np.ndarray, patient: str) -> None:
    # SimpleITK's writer (GDCM), not pydicom's: another tool's header conventions than medtl.synth's.
    written = sitk.GetImageFromArray(np.rint(image * 65535).astype(np.uint16))
    written.SetMetaData("0010|0020", patient)
    written.SetMetaData("0008|0060", "OT")
    sitk.WriteImage(written, str(path))
