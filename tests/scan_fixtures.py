"""Tiny image writers shared by the scan tests (PNG with Pillow, DICOM with pydicom, NIfTI with nibabel)."""
from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, DigitalXRayImageStorageForPresentation, ExplicitVRLittleEndian, generate_uid


def write_png(path: Path, seed: int, size: int = 32) -> Path:
    """A grey PNG whose pixels depend on `seed` (so two seeds never give identical bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (size, size), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def _dicom(pixels: np.ndarray, patient_id: str, modality: str, sop_class: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.PatientID, ds.Modality = patient_id, modality
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelSpacing = [0.7, 0.7]
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    return ds


def write_xray_dcm(path: Path, patient_id: str, seed: int, size: int = 32) -> Path:
    """A single-frame DX DICOM with the given PatientID and 0.7 mm pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 4000, (size, size))
    _dicom(pixels, patient_id, "DX", DigitalXRayImageStorageForPresentation).save_as(path, enforce_file_format=True)
    return path


def write_ct_series(folder: Path, patient_id: str, slices: int = 4, size: int = 16) -> Path:
    """A CT series of `slices` files (one SeriesInstanceUID, 2 mm apart) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    study, series = generate_uid(), generate_uid()
    for k in range(slices):
        ds = _dicom(np.full((size, size), 100 * k), patient_id, "CT", CTImageStorage)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.InstanceNumber = study, series, k + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0, 0, 2.0 * k]
        ds.SliceThickness = 2.0
        ds.save_as(folder / f"slice{k:03d}.dcm", enforce_file_format=True)
    return folder


def write_nifti(path: Path, array: np.ndarray) -> Path:
    """A NIfTI volume with 1 mm isotropic voxels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(array, np.eye(4)), path)
    return path
