"""The fast reading paths give the same values as the plain ones: NIfTI inflated in one call (single- and
multi-member gzip, scaled data), DICOM series read once per file with slices decoded and rescaled together."""
import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import torch
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

from medtl.io import ReadError, read_image
from medtl.io.dicom.dicom_pixels import decoded_pixels, modality_values, series_values
from medtl.io.dicom.dicom_series import series_datasets

OBLIQUE = np.array([[0, 0, -2.0, 10], [-1.0, 0, 0, 20], [0, 3.0, 0, 30], [0, 0, 0, 1]])  # axes P, S, L


def scaled_nifti(path: Path) -> np.ndarray:
    stored = np.random.default_rng(0).integers(-300, 3000, (12, 10, 8)).astype(np.int16)
    image = nib.Nifti1Image(stored, OBLIQUE)
    image.header.set_slope_inter(0.37, -12.5)
    nib.save(image, path)
    return nib.as_closest_canonical(nib.load(path)).get_fdata(dtype=np.float32)


def test_scaled_oblique_nifti_equals_nibabel(tmp_path):
    expected = scaled_nifti(tmp_path / "scaled.nii.gz")
    image = read_image(tmp_path / "scaled.nii.gz")
    assert image.array.dtype == np.float32 and np.unique(np.diff(expected, axis=0)).size > 100
    np.testing.assert_array_equal(image.array, expected)
    assert torch.equal(torch.as_tensor(image.array), torch.from_numpy(expected))  # positive strides


def test_gzip_of_several_members_reads_like_one(tmp_path):
    expected = scaled_nifti(tmp_path / "one.nii")
    data = (tmp_path / "one.nii").read_bytes()
    (tmp_path / "two.nii.gz").write_bytes(gzip.compress(data[:1000]) + gzip.compress(data[1000:]))
    np.testing.assert_array_equal(read_image(tmp_path / "two.nii.gz").array, expected)


def test_truncated_nifti_names_the_file(tmp_path):
    scaled_nifti(tmp_path / "whole.nii.gz")
    whole = (tmp_path / "whole.nii.gz").read_bytes()
    (tmp_path / "cut.nii.gz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ReadError, match="cut.nii.gz: not a readable NIfTI file"):
        read_image(tmp_path / "cut.nii.gz")
    (tmp_path / "short.nii").write_bytes(gzip.decompress(whole)[:-100])
    with pytest.raises(ReadError, match="short.nii: cannot read the voxel data: the file is shorter"):
        read_image(tmp_path / "short.nii")


def slice_dataset(index: int, signed: bool = False, slope: float = 1.0) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = pydicom.uid.CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.Modality, ds.PatientID, ds.SeriesInstanceUID = "CT", "p1", "1.2.3.4"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 6, 5, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, int(signed)
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, 2.0 * index], [1.0, 0, 0, 0, 1.0, 0]
    ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [0.5, 0.5], slope, -1024.0
    pixels = np.arange(30).reshape(6, 5) * (index + 1) - (500 if signed else 0)
    ds.PixelData = pixels.astype(np.int16 if signed else np.uint16).tobytes()
    return ds


def one_by_one(datasets: list[Dataset]) -> np.ndarray:
    return np.stack([modality_values(decoded_pixels(ds, "x.dcm"), ds) for ds in datasets])


@pytest.mark.parametrize("series", ["same format", "signed and unsigned", "RLE compressed", "rescale per slice"])
def test_series_decoded_together_equals_slice_by_slice(series):
    datasets = [slice_dataset(i, signed=series == "signed and unsigned" and i % 2 == 1,
                              slope=1.0 + i if series == "rescale per slice" else 2.0) for i in range(4)]
    if series == "RLE compressed":
        for ds in datasets:
            ds.compress(RLELossless)
    values = series_values(datasets, [f"{i}.dcm" for i in range(4)])
    assert values.dtype == np.float32 and values.shape == (4, 6, 5)
    np.testing.assert_array_equal(values, one_by_one(datasets))
    assert np.unique(values).size > 30


def test_series_files_are_read_once(tmp_path, monkeypatch):
    for i in range(4):
        slice_dataset(i).save_as(tmp_path / f"{i}.dcm", enforce_file_format=True)
    reads = []
    real = pydicom.dcmread
    monkeypatch.setattr(pydicom, "dcmread", lambda path, **kw: reads.append(Path(path).name) or real(path, **kw))
    volume = read_image(tmp_path)
    assert sorted(reads) == ["0.dcm", "1.dcm", "2.dcm", "3.dcm"]
    assert volume.array.shape == (5, 6, 4)
    np.testing.assert_array_equal(np.sort(volume.array, axis=None),
                                  np.sort(one_by_one([slice_dataset(i) for i in range(4)]), axis=None))


def test_only_the_chosen_series_keeps_its_pixels(tmp_path):
    for series in ("1.2.3.4", "1.2.3.5"):
        for i in range(3):
            ds = slice_dataset(i)
            ds.SeriesInstanceUID = series
            ds.save_as(tmp_path / f"{series}_{i}.dcm", enforce_file_format=True)
    groups = series_datasets(tmp_path, with_pixels=True, series_uid="1.2.3.5")
    assert [["PixelData" in ds for _, ds in groups[uid]] for uid in sorted(groups)] == [[False] * 3, [True] * 3]
    assert read_image(tmp_path, series_uid="1.2.3.5").meta["series_uid"] == "1.2.3.5"
