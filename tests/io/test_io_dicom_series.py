"""DICOM series and enhanced multi-frame volumes: ordering, spacing, affine (vs SimpleITK), errors."""
import random
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from scipy.spatial.transform import Rotation

from medtl.io import ReadError, read_dicom_series, read_header, read_image

ROWS, COLS = 16, 12  # not square, so a swapped row/column axis cannot pass
ROW_SPACING, COL_SPACING, STEP = 0.7, 0.9, 2.5
OBLIQUE = Rotation.from_euler("xyz", [20, 10, 30], degrees=True).as_matrix()  # columns: row dir, col dir, normal
ORIGIN = np.array([-40.0, 25.0, 60.0])
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
REAL_SERIES = Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests"


def stored_pixels(index: int) -> np.ndarray:
    """Slice `index` holds 1000 * index + 16 * row + col, so every voxel tells where it came from."""
    rows, cols = np.mgrid[:ROWS, :COLS]
    return (1000 * index + 16 * rows + cols).astype(np.uint16)


def new_dataset(series_uid: str, sop_class: str = pydicom.uid.MRImageStorage) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.SOPClassUID = sop_class
    ds.Modality, ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "MR", "patient-7", "1.2.3", series_uid
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = ROWS, COLS, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    return ds


def slice_dataset(index: int, position: np.ndarray, series_uid: str, instance: int, slope: float = 1.0) -> Dataset:
    ds = new_dataset(series_uid)
    ds.InstanceNumber = instance
    ds.ImagePositionPatient = [float(v) for v in position]
    ds.ImageOrientationPatient = [float(v) for v in (*OBLIQUE[:, 0], *OBLIQUE[:, 1])]
    ds.PixelSpacing = [ROW_SPACING, COL_SPACING]
    ds.RescaleSlope, ds.RescaleIntercept = slope, -100.0
    ds.PixelData = stored_pixels(index).tobytes()
    return ds


def write_series(folder: Path, count: int = 6, steps: list | None = None, slopes: list | None = None) -> str:
    """Slices along the oblique normal, written in shuffled order with InstanceNumbers that disagree."""
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = generate_uid()
    offsets = np.concatenate([[0.0], np.cumsum(steps or [STEP] * (count - 1))])
    slopes = slopes or [1.0] * count
    order = list(range(count))
    random.Random(3).shuffle(order)
    for file_number, index in enumerate(order):
        position = ORIGIN + offsets[index] * OBLIQUE[:, 2]
        ds = slice_dataset(index, position, series_uid, instance=count - file_number, slope=slopes[index])
        ds.save_as(folder / f"{series_uid[-6:]}_{file_number:02d}.dcm", enforce_file_format=True)
    return series_uid


def world_of_pixel(index: int, row: int, col: int, offsets: np.ndarray) -> np.ndarray:
    lps = ORIGIN + offsets[index] * OBLIQUE[:, 2] + col * COL_SPACING * OBLIQUE[:, 0]
    lps = lps + row * ROW_SPACING * OBLIQUE[:, 1]
    return (LPS_TO_RAS @ np.append(lps, 1.0))[:3]


def simpleitk_canonical(folder: Path) -> nib.Nifti1Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    image = reader.Execute()
    lps = np.eye(4)
    lps[:3, :3] = np.array(image.GetDirection()).reshape(3, 3) * np.array(image.GetSpacing())
    lps[:3, 3] = image.GetOrigin()
    array = sitk.GetArrayFromImage(image).T.astype(np.float32)
    return nib.as_closest_canonical(nib.Nifti1Image(array, LPS_TO_RAS @ lps))


def test_series_sorted_by_position_with_affine_matching_simpleitk(tmp_path):
    uid = write_series(tmp_path)
    volume = read_image(tmp_path)
    reference = simpleitk_canonical(tmp_path)

    assert volume.array.shape == reference.shape and nib.aff2axcodes(volume.affine) == ("R", "A", "S")
    np.testing.assert_array_equal(volume.array, reference.get_fdata(dtype=np.float32))
    np.testing.assert_allclose(volume.affine, reference.affine, atol=1e-4)
    assert sorted(volume.spacing) == pytest.approx(sorted((ROW_SPACING, COL_SPACING, STEP)))
    assert volume.meta == {"source": str(tmp_path), "format": "dicom-series", "modality": "MR",
                           "patient_id": "patient-7", "study_uid": "1.2.3", "series_uid": uid}


def test_each_voxel_sits_where_its_slice_says(tmp_path):
    write_series(tmp_path)
    volume = read_image(tmp_path)
    offsets = np.arange(6) * STEP
    to_voxel = np.linalg.inv(volume.affine)
    for index, row, col in [(0, 0, 0), (5, 15, 11), (2, 3, 7), (4, 10, 1)]:
        voxel = (to_voxel @ np.append(world_of_pixel(index, row, col, offsets), 1.0))[:3]
        np.testing.assert_allclose(voxel, np.round(voxel), atol=1e-6)
        assert volume.array[tuple(np.round(voxel).astype(int))] == 1000 * index + 16 * row + col - 100


def test_rescale_is_applied_per_slice(tmp_path):
    slopes = [1.0, 2.0, 1.0, 0.5, 1.0, 3.0]
    write_series(tmp_path, slopes=slopes)
    volume = read_image(tmp_path)
    to_voxel = np.linalg.inv(volume.affine)
    for index, slope in enumerate(slopes):
        voxel = np.round(to_voxel @ np.append(world_of_pixel(index, 2, 3, np.arange(6) * STEP), 1.0))[:3].astype(int)
        assert volume.array[tuple(voxel)] == pytest.approx(slope * (1000 * index + 16 * 2 + 3) - 100)


def test_header_matches_the_volume_without_decoding(tmp_path):
    uid = write_series(tmp_path)
    volume, header = read_image(tmp_path), read_header(tmp_path)
    assert header.shape == volume.array.shape and header.spacing == pytest.approx(volume.spacing)
    assert (header.path, header.format, header.series_uid) == (str(tmp_path), "dicom-series", uid)


def test_missing_slice_raises_naming_folder_and_series(tmp_path):
    uid = write_series(tmp_path, steps=[STEP, STEP, 2 * STEP, STEP, STEP])
    with pytest.raises(ReadError, match="missing slice") as caught:
        read_image(tmp_path)
    assert caught.value.path == str(tmp_path) and uid in caught.value.reason


def test_uneven_spacing_warns_and_uses_the_median(tmp_path):
    write_series(tmp_path, steps=[STEP, STEP, 2.6, STEP, STEP])
    with pytest.warns(UserWarning, match="slice spacing varies"):
        volume = read_image(tmp_path)
    assert STEP in [pytest.approx(s) for s in volume.spacing]


def test_two_series_in_one_folder_give_two_volumes(tmp_path):
    first = write_series(tmp_path, count=4)
    second = write_series(tmp_path, count=5)
    volumes = read_dicom_series(tmp_path)

    assert sorted(v.meta["series_uid"] for v in volumes) == sorted([first, second])
    assert sorted(sorted(v.array.shape)[0] for v in volumes) == [4, 5]
    with pytest.raises(ReadError, match="2 series in this folder") as caught:
        read_image(tmp_path)
    assert first in caught.value.reason and second in caught.value.reason
    assert read_image(tmp_path, series_uid=second).meta["series_uid"] == second
    with pytest.raises(ReadError, match="no series 'nope'"):
        read_header(tmp_path, series_uid="nope")


def test_enhanced_multiframe_equals_the_same_slices_as_a_series(tmp_path):
    write_series(tmp_path / "series")
    positions = [ORIGIN + i * STEP * OBLIQUE[:, 2] for i in range(6)]
    frame_order = [3, 0, 5, 1, 4, 2]  # frames stored out of order; their positions tell
    ds = new_dataset(generate_uid(), sop_class="1.2.840.10008.5.1.4.1.1.4.1")  # Enhanced MR Image Storage
    ds.NumberOfFrames = len(frame_order)
    shared = Dataset()
    shared.PlaneOrientationSequence = [Dataset()]
    shared.PlaneOrientationSequence[0].ImageOrientationPatient = [float(v) for v in (*OBLIQUE[:, 0], *OBLIQUE[:, 1])]
    shared.PixelMeasuresSequence = [Dataset()]
    shared.PixelMeasuresSequence[0].PixelSpacing = [ROW_SPACING, COL_SPACING]
    ds.SharedFunctionalGroupsSequence = [shared]
    ds.PerFrameFunctionalGroupsSequence = []
    for index in frame_order:
        frame = Dataset()
        frame.PlanePositionSequence = [Dataset()]
        frame.PlanePositionSequence[0].ImagePositionPatient = [float(v) for v in positions[index]]
        frame.PixelValueTransformationSequence = [Dataset()]
        frame.PixelValueTransformationSequence[0].RescaleSlope = 1.0
        frame.PixelValueTransformationSequence[0].RescaleIntercept = -100.0
        ds.PerFrameFunctionalGroupsSequence.append(frame)
    ds.PixelData = np.stack([stored_pixels(i) for i in frame_order]).tobytes()
    ds.save_as(tmp_path / "enhanced.dcm", enforce_file_format=True)

    volume, series = read_image(tmp_path / "enhanced.dcm"), read_image(tmp_path / "series")
    np.testing.assert_array_equal(volume.array, series.array)
    np.testing.assert_allclose(volume.affine, series.affine, atol=1e-6)
    assert read_header(tmp_path / "enhanced.dcm").shape == volume.array.shape


def test_real_ct_series_matches_simpleitk():
    folder = REAL_SERIES / "98892001" / "CT5N"
    volume, reference = read_image(folder), simpleitk_canonical(folder)
    np.testing.assert_array_equal(volume.array, reference.get_fdata(dtype=np.float32))
    np.testing.assert_allclose(volume.affine, reference.affine, atol=1e-4)
    assert volume.spacing == pytest.approx((0.488281, 0.488281, 2.5))


@pytest.mark.parametrize(
    "folder, message",
    [("77654033/CT2", "missing slice(s): a 202.5 mm gap"), ("98892003/MR700", "slices differ in orientation")],
)
def test_real_series_that_are_not_one_volume_are_refused(folder, message):
    with pytest.raises(ReadError) as caught:
        read_image(REAL_SERIES / folder)
    assert message in caught.value.reason and caught.value.path == str(REAL_SERIES / folder)
