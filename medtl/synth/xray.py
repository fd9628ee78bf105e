"""`make_xray`: a synthetic chest-X-ray cohort on disk (DICOM or PNG), with masks, a case list and findings."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from medtl.synth.cohort import (
    Patient,
    check_bounds,
    check_choice,
    make_patients,
    prepare_output,
    write_cases,
    write_json,
)
from medtl.synth.dicom_write import Radiograph, write_radiograph
from medtl.synth.geometry import random_rigid
from medtl.synth.phantoms_xray import NODULE_TASK_LABELS, SOURCE_TASK_LABELS, render_chest, sample_chest

TASK_LABELS = {"nodule": NODULE_TASK_LABELS, "source": SOURCE_TASK_LABELS}
FORMATS = {"dicom": ".dcm", "png": ".png"}
MIN_SIZE = 32


def make_xray(
    out: str | Path,
    patients: int = 40,
    seed: int = 0,
    size: int = 128,
    images_per_patient: tuple[int, int] = (1, 3),
    fmt: str = "dicom",
    task: str = "nodule",
    prevalence: float = 0.5,
) -> Path:
    """Write a cohort of chest-X-ray-like phantoms to `out` and return `out`.

    task="nodule" labels patients "normal" / "nodule" (a `prevalence` share positive, each of their images with
    one to three faint nodules); task="source" labels them "normal", "cardiomegaly", "effusion", "mass" or
    "granuloma" (several small dense spots) in equal shares (`prevalence` is not used). Every patient has
    `images_per_patient` (low, high) images, all with the patient's label. Layout::

        out/images/<label>/<patient_id>/<case_id>.dcm|.png
        out/masks/<case_id>.png      0/255 mask of the finding (all zero for normal)
        out/cases.csv                path, label, patient_id, mask (relative to out)
        out/findings.json            {case_id: [{"kind", "center": [row, col], "radius"}]}  (pixels)

    DICOM files are 12-bit DX/CR with per-patient rescale slope/intercept, every third patient stored
    MONOCHROME1; PNG files are 8-bit for even-numbered patients and 16-bit for odd ones. The same seed gives the
    same pixels and UIDs. A folder left by an earlier cohort is replaced; any other non-empty folder is refused.

    Example:
        >>> import tempfile
        >>> out = make_xray(tempfile.mkdtemp(), patients=4, size=32, images_per_patient=(1, 1))
        >>> (out / "cases.csv").read_text().splitlines()[0]
        'path,label,patient_id,mask'
    """
    check_choice("task", task, tuple(TASK_LABELS))
    check_bounds("images_per_patient", images_per_patient)
    check_choice("fmt", fmt, tuple(FORMATS))
    if size < MIN_SIZE:
        raise ValueError(f"size must be at least {MIN_SIZE}. Got {size!r} instead.")
    cohort = make_patients(patients, seed, TASK_LABELS[task], prevalence if task == "nodule" else None)
    out = prepare_output(out)
    rows, findings = [], {}
    for patient in cohort:
        rng = patient.rng()
        anatomy = sample_chest(rng, patient.label)
        encoding = _radiograph_encoding(patient, rng, size)
        low, high = images_per_patient
        for number in range(1, int(rng.integers(low, high + 1)) + 1):
            case_id = f"{patient.patient_id}_{number:02d}"
            image, mask, findings[case_id] = render_chest(anatomy, size, random_rigid(rng, 2, 4.0, 0.04), rng)
            display = np.rint(image * 4095.0).astype(np.uint16)
            image_path = Path("images", patient.label, patient.patient_id, case_id + FORMATS[fmt])
            if fmt == "dicom":
                write_radiograph(out / image_path, display, patient, case_id, number, encoding, seed)
            else:
                _write_png(out / image_path, _png_pixels(display, bits=16 if patient.index % 2 else 8))
            mask_path = Path("masks", f"{case_id}.png")
            _write_png(out / mask_path, mask.astype(np.uint8) * 255)
            rows.append(
                {"path": image_path.as_posix(), "label": patient.label, "patient_id": patient.patient_id,
                 "mask": mask_path.as_posix()}
            )
    write_cases(out, rows)
    write_json(out / "findings.json", findings)
    return out


def _radiograph_encoding(patient: Patient, rng: np.random.Generator, size: int) -> Radiograph:
    # Vary what a reader must undo: modality, polarity (every third patient), rescale, spacing (35-40 cm field).
    return Radiograph(
        modality="CR" if patient.index % 4 == 3 else "DX",
        photometric="MONOCHROME1" if patient.index % 3 == 2 else "MONOCHROME2",
        slope=float(rng.choice([1.0, 0.5])),
        intercept=float(rng.choice([0.0, -1024.0])),
        pixel_spacing=round(float(rng.uniform(350.0, 400.0)) / size, 4),
    )


def _png_pixels(display: np.ndarray, bits: int) -> np.ndarray:
    # 12-bit display values stretched to the full 8- or 16-bit range.
    top, dtype = (65535.0, np.uint16) if bits == 16 else (255.0, np.uint8)
    return np.rint(display.astype(np.float64) * (top / 4095.0)).astype(dtype)


def _write_png(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
