"""`make_mri`: a synthetic brain-MRI cohort on disk, as a Medical Segmentation Decathlon dataset (NIfTI) or as
DICOM series, with lesion masks, a case list and findings."""
from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from scipy.spatial.transform import Rotation

from medtl.synth.cohort import check_bounds, check_choice, make_patients, prepare_output, write_cases, write_json
from medtl.synth.dicom_write import write_mr_series
from medtl.synth.geometry import random_rigid
from medtl.synth.phantoms_mri import MRI_LABELS, SOURCE_LABELS, STYLES, render_head, sample_head

FORMATS = ("nifti", "dicom")
TASKS = {"lesion": MRI_LABELS, "source": SOURCE_LABELS}
MIN_SIDE = 8
OBLIQUE_DEGREES = (20.0, -20.0)  # about the x and y axes
FLIP_TO_LPS = np.diag([-1.0, -1.0, 1.0])


def make_mri(
    out: str | Path,
    patients: int = 12,
    seed: int = 0,
    shape: tuple[int, int, int] = (32, 32, 16),
    spacing: tuple[float, float, float] = (1.5, 1.5, 3.0),
    volumes_per_patient: tuple[int, int] = (1, 2),
    fmt: str = "nifti",
    prevalence: float = 0.5,
    oblique: bool = False,
    task: str = "lesion",
    style: str = "medtl",
) -> Path:
    """Write a cohort of brain-MRI-like volumes to `out` and return `out`.

    With task="lesion" patients are labelled "normal" / "lesion" (a `prevalence` share positive, each of their
    volumes with one bright lesion away from the ventricles) drawn in `style` ("medtl": T1-like, round lesions;
    "second": T2-like, fainter irregular lesions of more sizes; see `medtl.synth.phantoms_mri`). task="source"
    is the 3D source task: SOURCE_LABELS in equal shares (normal, atrophy, hypointense, mass, small_lesions),
    every lesion in the mask. Each patient has `volumes_per_patient` (low, high) volumes. Volumes are int16
    with voxel `spacing` (mm); the affine is RAS-aligned, or with `oblique=True` rotated 20 degrees about two axes
    with the first two axes pointing left and posterior. Layout for fmt="nifti" (Medical Segmentation Decathlon)::

        out/dataset.json                 name, labels, modality, numTraining, training [{image, label}]
        out/imagesTr/<case_id>.nii.gz    out/labelsTr/<case_id>.nii.gz (uint8 lesion mask, same affine)

    For fmt="dicom" each volume is a series of MR slices in out/dicom/<label>/<patient_id>/<case_id>/ (file names
    shuffled against slice order), masks still in out/labelsTr. Both write out/cases.csv (path, label,
    patient_id, mask) and out/findings.json ({case_id: [{"kind", "voxel", "world", "radius"}]}, voxel in the
    label file's index space, world in RAS mm, radius in mm). The same seed gives the same voxels and UIDs.

    Example:
        >>> import tempfile
        >>> out = make_mri(tempfile.mkdtemp(), patients=2, shape=(16, 16, 8))
        >>> sorted(p.name for p in out.iterdir())
        ['cases.csv', 'dataset.json', 'findings.json', 'imagesTr', 'labelsTr']
    """
    check_bounds("volumes_per_patient", volumes_per_patient)
    check_choice("fmt", fmt, FORMATS)
    check_choice("task", task, tuple(TASKS))
    check_choice("style", style, tuple(STYLES))
    if len(shape) != 3 or min(shape) < MIN_SIDE:
        raise ValueError(f"shape must be three sizes of at least {MIN_SIDE}. Got {shape!r} instead.")
    if len(spacing) != 3 or min(spacing) <= 0:
        raise ValueError(f"spacing must be three positive millimetre values. Got {spacing!r} instead.")
    cohort = make_patients(patients, seed, TASKS[task], prevalence if task == "lesion" else None)
    out = prepare_output(out)
    affine = volume_affine(shape, spacing, oblique)
    unit_mm = float(min(np.array(shape) * np.array(spacing))) / 2.0  # the largest sphere the grid holds
    rows, findings, training = [], {}, []
    for patient in cohort:
        rng = patient.rng()
        anatomy = sample_head(rng, patient.label, min(spacing[:2]) / unit_mm, style)
        slope = 0.5 if patient.index % 2 else 1.0
        low, high = volumes_per_patient
        for number in range(1, int(rng.integers(low, high + 1)) + 1):
            case_id = f"{patient.patient_id}_{number:02d}"
            volume, mask, findings[case_id] = render_head(
                anatomy, tuple(shape), affine, unit_mm, random_rigid(rng, 3, 4.0, 0.04), rng
            )
            voxels = np.rint(volume * rng.uniform(800.0, 1200.0)).astype(np.int16)
            label_path = Path("labelsTr", f"{case_id}.nii.gz")
            _write_nifti(out / label_path, mask.astype(np.uint8), affine)
            if fmt == "nifti":
                image_path = Path("imagesTr", f"{case_id}.nii.gz")
                _write_nifti(out / image_path, voxels, affine)
                training.append({"image": f"./{image_path.as_posix()}", "label": f"./{label_path.as_posix()}"})
            else:
                image_path = Path("dicom", patient.label, patient.patient_id, case_id)
                file_order = np.random.default_rng([seed, patient.index, number])  # same voxels as fmt="nifti"
                write_mr_series(out / image_path, voxels, affine, patient, case_id, slope, file_order, seed)
            rows.append(
                {"path": image_path.as_posix(), "label": patient.label, "patient_id": patient.patient_id,
                 "mask": label_path.as_posix()}
            )
    if fmt == "nifti":
        write_json(out / "dataset.json", _decathlon_manifest(training, task))
    write_cases(out, rows)
    write_json(out / "findings.json", findings)
    return out


def volume_affine(shape: tuple[int, int, int], spacing: tuple[float, float, float], oblique: bool) -> np.ndarray:
    """The index -> RAS mm affine of every synthetic volume, centred on the world origin.

    Example:
        >>> volume_affine((4, 4, 2), (1.0, 1.0, 2.0), oblique=False)[:3, 3].tolist()
        [-1.5, -1.5, -1.0]
    """
    linear = np.diag(np.asarray(spacing, dtype=np.float64))
    if oblique:
        linear = Rotation.from_euler("xy", OBLIQUE_DEGREES, degrees=True).as_matrix() @ FLIP_TO_LPS @ linear
    affine = np.eye(4)
    affine[:3, :3] = linear
    affine[:3, 3] = -linear @ ((np.asarray(shape, dtype=np.float64) - 1.0) / 2.0)
    return affine


def _write_nifti(path: Path, array: np.ndarray, affine: np.ndarray) -> None:
    image = nib.Nifti1Image(array, affine)
    image.header.set_xyzt_units("mm")
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(image, path)


def _decathlon_manifest(training: list[dict[str, str]], task: str) -> dict:
    description = ("Synthetic brain MRI phantoms with one bright lesion in positive patients" if task == "lesion"
                   else "Synthetic brain MRI phantoms: " + ", ".join(SOURCE_LABELS))
    return {
        "name": "SynthBrainLesion" if task == "lesion" else "SynthBrainSource",
        "description": f"{description} (medtl synth)",
        "reference": "medtl",
        "licence": "CC0-1.0",
        "release": "1.0",
        "tensorImageSize": "3D",
        "modality": {"0": "MRI"},
        "labels": {"0": "background", "1": "lesion"},
        "numTraining": len(training),
        "numTest": 0,
        "training": training,
        "test": [],
    }
