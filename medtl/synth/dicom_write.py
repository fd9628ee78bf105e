"""Write synthetic images as real DICOM: radiographs (DX/CR, one file) and MR volumes (one file per slice)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    MRImageStorage,
)

from medtl.synth.cohort import Patient, synth_uid

SOP_CLASSES = {
    "DX": DigitalXRayImageStorageForPresentation,
    "CR": ComputedRadiographyImageStorage,
    "MR": MRImageStorage,
}
RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
STUDY_DATE = "20240115"


@dataclass(frozen=True)
class Radiograph:
    """How one patient's radiographs are encoded: modality, polarity, rescale and pixel spacing in mm.

    Example:
        >>> Radiograph("DX", "MONOCHROME1", 0.5, -1024.0, 0.35).window()
        (0.0, 2048.0)
    """

    modality: str
    photometric: str
    slope: float
    intercept: float
    pixel_spacing: float

    def window(self) -> tuple[float, float]:
        """Window centre and width covering the full 12-bit stored range, in rescaled units."""
        return 2048.0 * self.slope + self.intercept, 4096.0 * self.slope


def write_radiograph(
    path: Path, display: np.ndarray, patient: Patient, case_id: str, number: int, encoding: Radiograph, seed: int
) -> Path:
    """Write a 12-bit radiograph. `display` holds values 0..4095, bright = dense; MONOCHROME1 stores them inverted.

    Example:
        >>> import tempfile; from medtl.synth.cohort import make_patients
        >>> p = make_patients(2, 0, ("normal", "nodule"), 0.5)[0]
        >>> enc = Radiograph("DX", "MONOCHROME2", 1.0, 0.0, 0.3)
        >>> img = np.zeros((8, 8), np.uint16)
        >>> write_radiograph(Path(tempfile.mkdtemp()) / "a.dcm", img, p, "P000_01", 1, enc, 0).suffix
        '.dcm'
    """
    stored = 4095 - display if encoding.photometric == "MONOCHROME1" else display
    ds = _new_dataset(encoding.modality, patient, case_id, seed)
    ds.SeriesNumber = number
    ds.InstanceNumber = 1
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    ds.PatientOrientation = ["L", "F"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.PixelSpacing = [encoding.pixel_spacing, encoding.pixel_spacing]
    ds.ImagerPixelSpacing = [encoding.pixel_spacing, encoding.pixel_spacing]
    ds.RescaleSlope = encoding.slope
    ds.RescaleIntercept = encoding.intercept
    ds.RescaleType = "US"
    ds.WindowCenter, ds.WindowWidth = encoding.window()
    ds.set_pixel_data(stored.astype(np.uint16), encoding.photometric, 12, generate_instance_uid=False)
    return _save(ds, path)


def write_mr_series(
    folder: Path, volume: np.ndarray, affine_ras: np.ndarray, patient: Patient, case_id: str, slope: float,
    rng: np.random.Generator, seed: int,
) -> list[Path]:
    """Write an MR volume (non-negative integers, indexed like its NIfTI file) as one DICOM file per slice along
    the third axis. Geometry comes from the RAS affine, converted to DICOM's LPS. File names follow a shuffled
    order, so only the headers (positions, InstanceNumber) give the slice order.

    Example:
        >>> import tempfile; from medtl.synth.cohort import make_patients
        >>> p = make_patients(2, 0, ("normal", "lesion"), 0.5)[0]
        >>> vol = np.zeros((4, 4, 3), np.int16)
        >>> folder, order = Path(tempfile.mkdtemp()), np.random.default_rng(0)
        >>> len(write_mr_series(folder, vol, np.eye(4), p, "P000_01", 1.0, order, 0))
        3
    """
    affine_lps = RAS_TO_LPS @ affine_ras
    spacing = np.linalg.norm(affine_ras[:3, :3], axis=0)
    orientation = np.concatenate([affine_lps[:3, 0] / spacing[0], affine_lps[:3, 1] / spacing[1]])
    normal = np.cross(orientation[:3], orientation[3:])
    slices = volume.shape[2]
    paths = []
    folder.mkdir(parents=True, exist_ok=True)
    for file_number, k in enumerate(_shuffled_slices(rng, slices)):
        position = affine_lps[:3, :] @ np.array([0.0, 0.0, k, 1.0])
        ds = _new_dataset("MR", patient, case_id, seed, instance=str(k))
        ds.SeriesNumber = 1
        ds.InstanceNumber = k + 1
        ds.SeriesDescription = "T1 synthetic"
        ds.MRAcquisitionType = "2D"
        ds.ScanningSequence = "SE"
        ds.SequenceVariant = "NONE"
        ds.ImageOrientationPatient = [round(float(v), 6) for v in orientation]
        ds.ImagePositionPatient = [round(float(v), 4) for v in position]
        ds.SliceLocation = round(float(position @ normal), 4)
        ds.PixelSpacing = [round(float(spacing[1]), 6), round(float(spacing[0]), 6)]
        ds.SliceThickness = round(float(spacing[2]), 6)
        ds.SpacingBetweenSlices = round(float(spacing[2]), 6)
        ds.RescaleSlope = slope
        ds.RescaleIntercept = 0.0
        stored = np.rint(volume[:, :, k].T / slope).astype(np.uint16)  # DICOM rows run along the second axis
        ds.set_pixel_data(stored, "MONOCHROME2", 16, generate_instance_uid=False)
        paths.append(_save(ds, folder / f"IM{file_number:04d}.dcm"))
    return paths


def _shuffled_slices(rng: np.random.Generator, count: int) -> np.ndarray:
    # Neither the slice order nor its reverse, so file names never give the geometry away.
    order = rng.permutation(count)
    while count > 2 and (np.all(np.diff(order) == 1) or np.all(np.diff(order) == -1)):
        order = rng.permutation(count)
    return order


def _new_dataset(modality: str, patient: Patient, case_id: str, seed: int, instance: str = "0") -> Dataset:
    # Patient, study, series and SOP common modules shared by every synthetic object.
    sop_class = SOP_CLASSES[modality]
    sop_instance = synth_uid(seed, modality, "instance", case_id, instance)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_instance
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.Modality = modality
    ds.PatientID = patient.patient_id
    ds.PatientName = patient.name
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.StudyInstanceUID = synth_uid(seed, modality, "study", patient.patient_id)
    ds.SeriesInstanceUID = synth_uid(seed, modality, "series", case_id)
    ds.FrameOfReferenceUID = synth_uid(seed, modality, "frame", case_id)
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = STUDY_DATE
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "093000"
    ds.StudyID = "1"
    ds.AccessionNumber = f"ACC-{patient.patient_id}"
    ds.ReferringPhysicianName = "SYNTH^REFERRER"
    ds.InstitutionName = "medtl synthetic hospital"
    ds.Manufacturer = "medtl"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    return ds


def _save(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path

