"""A segmentation cross-validation from a folder whose masks are DICOM SEG files: the masks medtl makes of them
equal the NIfTI masks they were made from, and the CV runs on them."""
from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pandas as pd
import pydicom
import pytest
from pydicom.uid import generate_uid

import medtl
from medtl.cli.main import main
from medtl.data import scan_folder
from medtl.io import read_image
from medtl.synth import make_mri

CONFIG = Path(medtl.__file__).parent / "configs" / "mri_seg_3d.yaml"


def _slice_masks(series: Path, mask: np.ndarray, tmp: Path) -> tuple[list[pydicom.Dataset], np.ndarray]:
    """The series' slices and the mask as their pixels: a copy of the series holding voxel numbers, read as
    medtl reads volumes, tells which canonical voxel each stored pixel is."""
    files = sorted(series.iterdir())
    datasets = [pydicom.dcmread(f) for f in files]
    rows, cols = datasets[0].Rows, datasets[0].Columns
    tmp.mkdir()
    for k, (f, ds) in enumerate(zip(files, datasets)):
        copy = pydicom.dcmread(f)
        copy.RescaleSlope, copy.RescaleIntercept, copy.PixelRepresentation = 1, 0, 0
        copy.PixelData = (np.arange(rows * cols, dtype=np.uint16) + k * rows * cols).tobytes()
        copy.save_as(tmp / f.name)
    numbers = read_image(tmp).array.astype(int)
    pixels = np.zeros(len(files) * rows * cols, np.uint8)
    pixels[numbers.ravel()] = mask.ravel()
    return datasets, pixels.reshape(len(files), rows, cols)


def _write_seg(datasets: list[pydicom.Dataset], pixels: np.ndarray, path: Path) -> None:
    frame_of_reference = generate_uid()
    for ds in datasets:  # the study and patient attributes highdicom copies into the SEG
        ds.PatientName, ds.PatientBirthDate, ds.PatientSex, ds.ReferringPhysicianName = "Test^P", "", "O", ""
        ds.StudyDate, ds.StudyTime, ds.AccessionNumber, ds.StudyID = "20240101", "120000", "1", "1"
        ds.FrameOfReferenceUID = frame_of_reference
    segment = hd.seg.SegmentDescription(
        segment_number=1, segment_label="Lesion", segmented_property_category=hd.sr.CodedConcept(
            "49755003", "SCT", "Morphologically Abnormal Structure"),
        segmented_property_type=hd.sr.CodedConcept("108369006", "SCT", "Neoplasm"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
    hd.seg.Segmentation(
        source_images=datasets, pixel_array=pixels, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[segment], series_instance_uid=generate_uid(), series_number=99,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer="medtl", manufacturer_model_name="test",
        software_versions="1", device_serial_number="1", omit_empty_frames=bool(pixels.any())).save_as(path)


@pytest.fixture(scope="module")
def seg_folder(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("dicomseg")
    data = make_mri(root / "data", patients=6, shape=(16, 16, 12), fmt="dicom", seed=2)
    cases = pd.read_csv(data / "cases.csv", dtype=str)
    nifti_masks = {}
    for i, case in cases.iterrows():
        mask = read_image(data / case["mask"]).array > 0
        datasets, pixels = _slice_masks(data / case["path"], mask, root / f"numbers{i}")
        seg = Path("seg", f"{Path(case['path']).name}.dcm")
        (data / seg).parent.mkdir(exist_ok=True)
        _write_seg(datasets, pixels, data / seg)
        nifti_masks[str(data / case["path"])] = data / case["mask"]
        cases.loc[i, "mask"], cases.loc[i, "mask_segment"] = seg.as_posix(), "Lesion"
    cases.to_csv(data / "cases.csv", index=False)
    return data, nifti_masks


@pytest.mark.slow
def test_seg_masks_equal_the_masks_they_were_made_from_and_a_cv_runs(seg_folder, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MEDTL_HOME", str(tmp_path / "home"))
    data, nifti_masks = seg_folder
    table = scan_folder(data, layout="csv")
    assert len(table) == len(nifti_masks) and not table.problems
    for image, mask in zip(table.df["image"], table.df["mask"]):
        assert np.array_equal(read_image(mask).array > 0, read_image(nifti_masks[image]).array > 0)
    assert table.df["mask"].map(lambda m: m.endswith(".nii.gz")).all()

    run = tmp_path / "run"
    assert main(["cv", str(CONFIG), "--out", str(run), "--set", f"data.root={data}", "--set", "data.layout=csv",
                 "--set", "transforms.input_size=[16,16,12]", "--set", "seg.patch_size=[16,16,8]",
                 "--set", "seg.patches_per_volume=1", "--set", "train.epochs=1", "--set", "train.batch_size=8",
                 "--set", "cv.folds=2"]) == 0
    oof = pd.read_csv(run / "oof_predictions.csv", dtype={"case_id": str}).set_index("case_id")
    masks = zip(table.df["case_id"], table.df["mask"])
    voxels = {case: int((read_image(mask).array > 0).sum()) for case, mask in masks}
    assert oof["true_voxels"].to_dict() == voxels and sum(voxels.values()) > 0  # scored against the SEG masks
