"""Masks from DICOM SEG and RTSTRUCT: real SEG files read as highdicom reads them; SEG and RTSTRUCT made here
for a CT series land on exactly the voxels of the known mask; a manifest's SEG mask becomes a mask file."""
from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid
from scan_fixtures import write_ct_series

from medtl.data import scan_folder
from medtl.io import ReadError, read_image
from medtl.io.dicom.dicom_masks import read_dicom_mask, segment_frames
from medtl.io.dicom.dicom_tags import open_dataset

ROWS, COLS = slice(4, 9), slice(3, 11)  # the known mask: these pixels of slices 1 and 2
MASKED_SLICES = (1, 2)


@pytest.mark.parametrize("name", ["liver.dcm", "liver_1frame.dcm"])
def test_real_seg_frames_match_highdicom(name: str) -> None:
    path = get_testdata_file(name)
    frames, geometries = segment_frames(open_dataset(path), path, "Liver")
    reference = hd.seg.segread(path).get_volume(segment_numbers=[1]).array[..., 0]
    assert sorted(frames.sum(axis=(1, 2)).tolist()) == sorted(reference.sum(axis=(1, 2)).tolist())
    assert np.array_equal(segment_frames(open_dataset(path), path, 1)[0], frames)
    with pytest.raises(ReadError, match="no segment 'Spleen'; the SEG holds 1 'Liver'"):
        segment_frames(open_dataset(path), path, "Spleen")


def test_a_big_endian_seg_reads_as_its_little_endian_twin() -> None:
    frames = [segment_frames(open_dataset(get_testdata_file(n)), n, None)[0] for n in ("liver.dcm", "liver_expb.dcm")]
    assert frames[0].any() and np.array_equal(*frames)  # highdicom parses little endian files only


@pytest.fixture
def ct(tmp_path: Path) -> tuple[Path, list[Dataset], np.ndarray]:
    """A 6-slice CT series, its datasets in slice order, and the known mask read as medtl reads the series."""
    folder = write_ct_series(tmp_path / "ct", patient_id="P1", slices=6)
    datasets = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    truth = tmp_path / "truth"  # the mask written as pixels of the same slices: read_image gives its voxels
    truth.mkdir()
    for k, ds in enumerate(datasets):
        copy = pydicom.dcmread(sorted(folder.iterdir())[k])
        pixels = np.zeros((copy.Rows, copy.Columns), np.uint16)
        if k in MASKED_SLICES:
            pixels[ROWS, COLS] = 1
        copy.PixelData = pixels.tobytes()
        copy.save_as(truth / f"{k}.dcm")
    return folder, datasets, read_image(truth).array > 0


def _seg(datasets: list[Dataset], path: Path) -> Path:
    frame_of_reference = generate_uid()
    for ds in datasets:  # the study and patient attributes highdicom copies into the SEG
        ds.PatientName, ds.PatientBirthDate, ds.PatientSex, ds.ReferringPhysicianName = "Test^P", "", "O", ""
        ds.StudyDate, ds.StudyTime, ds.AccessionNumber, ds.StudyID = "20240101", "120000", "1", "1"
        ds.FrameOfReferenceUID, ds.SeriesNumber = frame_of_reference, 1
    pixels = np.zeros((len(datasets), datasets[0].Rows, datasets[0].Columns), np.uint8)
    for k in MASKED_SLICES:
        pixels[k][ROWS, COLS] = 1
    algorithm = hd.AlgorithmIdentificationSequence(name="test", version="1", family=hd.sr.CodedConcept(
        "123109", "DCM", "Manual Processing"))
    segments = [hd.seg.SegmentDescription(
        segment_number=1, segment_label="Lesion", segmented_property_category=hd.sr.CodedConcept(
            "49755003", "SCT", "Morphologically Abnormal Structure"),
        segmented_property_type=hd.sr.CodedConcept("108369006", "SCT", "Neoplasm"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)]
    seg = hd.seg.Segmentation(
        source_images=datasets, pixel_array=pixels, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=segments, series_instance_uid=generate_uid(), series_number=2,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer="medtl", manufacturer_model_name="test",
        software_versions="1", device_serial_number="1", omit_empty_frames=True)  # only the 2 masked frames
    seg.save_as(path)
    return path


def _rtstruct(datasets: list[Dataset], path: Path) -> Path:
    ds = Dataset()
    ds.Modality, ds.SOPClassUID = "RTSTRUCT", "1.2.840.10008.5.1.4.1.1.481.3"
    roi = Dataset()
    roi.ROINumber, roi.ROIName = 7, "GTV"
    ds.StructureSetROISequence = Sequence([roi])
    contours = []
    for k in MASKED_SLICES:
        g = datasets[k]
        row_dir, col_dir = np.array(g.ImageOrientationPatient[:3]), np.array(g.ImageOrientationPatient[3:])
        dy, dx = (float(v) for v in g.PixelSpacing)
        corners = [(ROWS.start - 0.5, COLS.start - 0.5), (ROWS.start - 0.5, COLS.stop - 0.5),
                   (ROWS.stop - 0.5, COLS.stop - 0.5), (ROWS.stop - 0.5, COLS.start - 0.5)]
        points = [np.array(g.ImagePositionPatient, float) + c * dx * row_dir + r * dy * col_dir for r, c in corners]
        contour = Dataset()
        contour.ContourGeometricType, contour.NumberOfContourPoints = "CLOSED_PLANAR", 4
        contour.ContourData = [f"{v:g}" for p in points for v in p]
        contours.append(contour)
    item = Dataset()
    item.ReferencedROINumber, item.ContourSequence = 7, Sequence(contours)
    ds.ROIContourSequence = Sequence([item])
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.save_as(path, enforce_file_format=True)
    return path


def test_a_sparse_seg_lands_on_the_known_voxels(ct, tmp_path: Path) -> None:
    folder, datasets, truth = ct
    path = _seg(datasets, tmp_path / "seg.dcm")
    assert len(segment_frames(open_dataset(path), path, 1)[0]) == len(MASKED_SLICES)  # empty frames left out
    mask = read_dicom_mask(path, read_image(folder), "lesion")
    assert truth.sum() == 80 and np.array_equal(mask, truth)


def test_an_rtstruct_roi_is_filled_on_the_known_voxels(ct, tmp_path: Path) -> None:
    folder, datasets, truth = ct
    path = _rtstruct(datasets, tmp_path / "rt.dcm")
    assert np.array_equal(read_dicom_mask(path, read_image(folder), "GTV"), truth)
    with pytest.raises(ReadError, match="no ROI 'Heart'; the structure set holds 'GTV'"):
        read_dicom_mask(path, read_image(folder), "Heart")


def test_a_manifest_seg_mask_becomes_a_mask_file_of_the_image_grid(ct, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MEDTL_HOME", str(tmp_path / "home"))
    folder, datasets, truth = ct
    _seg(datasets, tmp_path / "seg.dcm")
    _rtstruct(datasets, tmp_path / "rt.dcm")
    (tmp_path / "cases.csv").write_text("path,label,mask,mask_segment\nct,lesion,seg.dcm,Lesion\n"
                                        "ct,lesion,rt.dcm,Liver\n")
    table = scan_folder(tmp_path, layout="csv")
    assert len(table) == 1 and np.array_equal(read_image(table.df["mask"][0]).array > 0, truth)
    assert ["line 3: no ROI 'Liver'" in p.reason for p in table.problems] == [True]
