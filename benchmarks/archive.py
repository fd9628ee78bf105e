"""A synthetic archive of many small DICOM radiographs in class folders (`root/<label>/<patient>/<n>.dcm`),
written fast enough for 100,000 files: one template file is made with pydicom (the 44 attributes of
`medtl synth xray`'s radiographs, 32x32 12-bit pixels, about 2.6 KB), then each copy has its patient id, uids and
pixels patched in place (fixed-width fields; pydicom has no bulk writer)."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import DigitalXRayImageStorageForPresentation, ExplicitVRLittleEndian

LABELS = ("normal", "nodule")
SIZE = 32  # pixels per side: the archive measures scanning, not decoding
_UID_ROOT = "1.2.826.0.1.3680043.8.498."
_PATIENT, _INSTANCE = "PATIENT000000", _UID_ROOT + "1" + "0" * 19  # the last component must not start with 0


def template() -> tuple[bytes, dict[str, int]]:
    """The bytes of one DICOM radiograph, and the offsets of its patient id, pixel data and uids (the series
    and instance uids are one value: each radiograph is its own series).

    Example:
        >>> data, offsets = template()
        >>> sorted(offsets), len(offsets["uids"])
        (['patient', 'pixels', 'uids'], 3)
    """
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = DigitalXRayImageStorageForPresentation
    ds.file_meta.MediaStorageSOPInstanceUID = _INSTANCE
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = DigitalXRayImageStorageForPresentation, _INSTANCE
    ds.Modality, ds.PatientID, ds.PatientName = "DX", _PATIENT, "SYNTH^ARCHIVE"
    ds.PatientBirthDate, ds.PatientSex = "19600101", "O"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = _UID_ROOT + "1", _INSTANCE
    ds.FrameOfReferenceUID = _UID_ROOT + "2"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240115"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "093000"
    ds.StudyID, ds.AccessionNumber, ds.ReferringPhysicianName = "1", "ACC-1", "SYNTH^REFERRER"
    ds.InstitutionName, ds.Manufacturer, ds.ImageType = "medtl synthetic hospital", "medtl", ["ORIGINAL", "PRIMARY"]
    ds.SeriesNumber, ds.InstanceNumber, ds.BodyPartExamined, ds.ViewPosition = 1, 1, "CHEST", "PA"
    ds.PatientOrientation, ds.PresentationIntentType = ["L", "F"], "FOR PRESENTATION"
    ds.PixelSpacing = ds.ImagerPixelSpacing = [0.5, 0.5]
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1.0, 0.0, "US"
    ds.WindowCenter, ds.WindowWidth = 2048.0, 4096.0
    ds.set_pixel_data(np.zeros((SIZE, SIZE), np.uint16), "MONOCHROME2", 12, generate_instance_uid=False)
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    data = buffer.getvalue()
    instance, uids = _INSTANCE.encode(), []
    while (found := data.find(instance, uids[-1] + 1 if uids else 0)) >= 0:
        uids.append(found)
    return data, {"patient": data.index(_PATIENT.encode()), "pixels": len(data) - SIZE * SIZE * 2, "uids": uids}


def write_archive(root: Path, files: int, images_per_patient: int = 2, seed: int = 0) -> list[Path]:
    """Write `files` distinct tiny DICOM radiographs under `root`, `images_per_patient` per patient folder,
    patients alternating between the labels; returns the paths written.

    Example:
        >>> import tempfile
        >>> paths = write_archive(Path(tempfile.mkdtemp()), 4)
        >>> [p.relative_to(p.parents[2]).as_posix() for p in paths[:2]]
        ['normal/PATIENT000000/0.dcm', 'normal/PATIENT000000/1.dcm']
    """
    data, offsets = template()
    buffer = bytearray(data)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 4096, size=(files, SIZE * SIZE), dtype=np.uint16)
    paths = []
    for n in range(files):
        patient = f"PATIENT{n // images_per_patient:06d}"
        uid = f"{_UID_ROOT}1{n:019d}".encode()
        buffer[offsets["patient"]: offsets["patient"] + len(patient)] = patient.encode()
        for offset in offsets["uids"]:
            buffer[offset: offset + len(uid)] = uid
        buffer[offsets["pixels"]:] = pixels[n].tobytes()
        folder = root / LABELS[(n // images_per_patient) % len(LABELS)] / patient
        if n % images_per_patient == 0:
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{n % images_per_patient}.dcm"
        path.write_bytes(buffer)
        paths.append(path)
    return paths
