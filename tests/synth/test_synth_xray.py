"""make_xray: layout, patients and labels, findings against masks and pixels, DICOM/PNG encoding, determinism."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
from PIL import Image
from pydicom.pixels import apply_modality_lut
from scipy import ndimage

from medtl.synth import make_xray
from medtl.synth.phantoms_xray import LESION_KINDS


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_xray(tmp_path_factory.mktemp("xray") / "cohort", patients=9, seed=3, size=64,
                     images_per_patient=(2, 3))


def displayed(path: Path) -> np.ndarray:
    """Pixels as a reader shows them: rescaled, MONOCHROME1 inverted, scaled to 0..1."""
    ds = pydicom.dcmread(path)
    values = apply_modality_lut(ds.pixel_array, ds).astype(np.float64)
    low, high = ds.RescaleIntercept, 4095 * ds.RescaleSlope + ds.RescaleIntercept
    values = (values - low) / (high - low)
    return 1.0 - values if ds.PhotometricInterpretation == "MONOCHROME1" else values


def test_layout_patients_and_labels(cohort: Path) -> None:
    cases = pd.read_csv(cohort / "cases.csv", dtype=str)
    assert list(cases.columns) == ["path", "label", "patient_id", "mask"]
    assert cases["patient_id"].nunique() == 9
    assert set(cases["label"]) == {"normal", "nodule"}
    assert (cases.groupby("patient_id")["label"].nunique() == 1).all()
    assert cases.groupby("patient_id").size().between(2, 3).all()
    for row in cases.itertuples():
        parts = Path(row.path).parts
        assert parts[:3] == ("images", row.label, row.patient_id) and (cohort / row.path).is_file()
        assert (cohort / row.mask).is_file()
    findings = json.loads((cohort / "findings.json").read_text())
    assert sorted(findings) == sorted(Path(p).stem for p in cases["path"])


def test_findings_match_masks_and_pixels(cohort: Path) -> None:
    cases = pd.read_csv(cohort / "cases.csv", dtype=str)
    findings = json.loads((cohort / "findings.json").read_text())
    excess = []
    for row in cases.itertuples():
        mask = np.asarray(Image.open(cohort / row.mask))
        assert mask.shape == (64, 64) and set(np.unique(mask)) <= {0, 255}
        found = findings[Path(row.path).stem]
        if row.label == "normal":
            assert not found and not mask.any()
            continue
        components, count = ndimage.label(mask > 0)
        assert count == len(found) >= 1
        image = displayed(cohort / row.path)
        rows, cols = np.indices(mask.shape)
        for finding in found:
            r, c = finding["center"]
            assert finding["kind"] == "nodule" and mask[r, c] == 255
            assert 0.02 * 64 <= finding["radius"] <= 0.05 * 64
            distance = np.hypot(rows - r, cols - c)
            ring = (distance > 1.5 * finding["radius"]) & (distance < 3.0 * finding["radius"]) & (mask == 0)
            excess.append(image[distance <= finding["radius"]].mean() - image[ring].mean())
    assert np.mean(excess) > 0.03 and np.mean(np.array(excess) > 0) >= 0.75


def test_dicom_header(cohort: Path) -> None:
    cases = pd.read_csv(cohort / "cases.csv", dtype=str)
    headers = [pydicom.dcmread(cohort / p) for p in cases["path"]]
    for ds, patient_id in zip(headers, cases["patient_id"]):
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert ds.Modality in ("DX", "CR") and ds.PatientID == patient_id
        assert str(ds.PatientName).startswith("SYNTH^") and len(ds.PatientBirthDate) == 8
        assert (ds.BitsStored, ds.BitsAllocated) == (12, 16) and ds.pixel_array.max() <= 4095
        assert "RescaleSlope" in ds and "RescaleIntercept" in ds and len(ds.PixelSpacing) == 2
    assert {(ds.RescaleSlope, ds.RescaleIntercept) for ds in headers} != {(1.0, 0.0)}
    photometric = {ds.PhotometricInterpretation for ds in headers}
    assert photometric == {"MONOCHROME1", "MONOCHROME2"}
    assert len({ds.SOPInstanceUID for ds in headers}) == len(headers)
    studies = {ds.PatientID: set() for ds in headers}
    for ds in headers:
        studies[ds.PatientID].add(ds.StudyInstanceUID)
    assert all(len(uids) == 1 for uids in studies.values())


def test_monochrome1_images_look_like_the_others_once_inverted(cohort: Path) -> None:
    cases = pd.read_csv(cohort / "cases.csv", dtype=str)
    for path in cases["path"]:
        image = displayed(cohort / path)
        corners = np.concatenate([image[:6, :6].ravel(), image[:6, -6:].ravel()])
        spine = image[16:48, 30:34]
        assert corners.mean() < 0.3 < spine.mean()


def test_same_seed_same_pixels_and_uids(cohort: Path, tmp_path: Path) -> None:
    again = make_xray(tmp_path / "again", patients=9, seed=3, size=64, images_per_patient=(2, 3))
    other = make_xray(tmp_path / "other", patients=9, seed=4, size=64, images_per_patient=(2, 3))
    cases = pd.read_csv(cohort / "cases.csv", dtype=str)
    assert cases.equals(pd.read_csv(again / "cases.csv", dtype=str))
    assert (cohort / "findings.json").read_text() == (again / "findings.json").read_text()
    for path in cases["path"]:
        first, second = pydicom.dcmread(cohort / path), pydicom.dcmread(again / path)
        assert np.array_equal(first.pixel_array, second.pixel_array)
        assert (first.SOPInstanceUID, first.StudyInstanceUID) == (second.SOPInstanceUID, second.StudyInstanceUID)
    other_cases = pd.read_csv(other / "cases.csv", dtype=str)
    uids = {pydicom.dcmread(cohort / p).SOPInstanceUID for p in cases["path"]}
    assert uids.isdisjoint(pydicom.dcmread(other / p).SOPInstanceUID for p in other_cases["path"])


def test_png_cohort_has_8_and_16_bit_images(tmp_path: Path) -> None:
    out = make_xray(tmp_path / "png", patients=4, size=32, images_per_patient=(1, 1), fmt="png")
    cases = pd.read_csv(out / "cases.csv", dtype=str)
    arrays = [np.asarray(Image.open(out / p)) for p in cases["path"]]
    assert {a.dtype for a in arrays} == {np.dtype(np.uint8), np.dtype(np.uint16)}
    assert all(a.shape == (32, 32) for a in arrays)
    assert max(int(a.max()) for a in arrays if a.dtype == np.uint16) > 255


def test_source_task_is_balanced_and_its_findings_match_labels(tmp_path: Path) -> None:
    out = make_xray(tmp_path / "source", patients=10, size=64, images_per_patient=(1, 1), task="source")
    cases = pd.read_csv(out / "cases.csv", dtype=str)
    findings = json.loads((out / "findings.json").read_text())
    assert cases.groupby("label")["patient_id"].nunique().to_dict() == {
        "cardiomegaly": 2, "effusion": 2, "granuloma": 2, "mass": 2, "normal": 2}
    for row in cases.itertuples():
        kinds = {f["kind"] for f in findings[Path(row.path).stem]}
        mask = np.asarray(Image.open(out / row.mask))
        assert kinds == (set() if row.label == "normal" else {row.label})
        assert mask.any() == (row.label != "normal")
        for finding in findings[Path(row.path).stem]:
            assert mask[tuple(finding["center"])] == 255
            if row.label in ("mass", "granuloma"):
                low, high = LESION_KINDS[row.label].radius_share
                assert low * 64 <= finding["radius"] <= high * 64


def test_rerun_replaces_a_cohort_but_never_foreign_files(tmp_path: Path) -> None:
    out = make_xray(tmp_path / "c", patients=6, size=32, images_per_patient=(1, 1))
    make_xray(out, patients=2, size=32, images_per_patient=(1, 1))
    assert len(list((out / "masks").iterdir())) == 2
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="notes.txt"):
        make_xray(out, patients=2, size=32)
    assert (out / "notes.txt").read_text() == "keep me" and (out / "cases.csv").exists()
    (tmp_path / "own" / "images").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="images"):
        make_xray(tmp_path / "own", patients=2, size=32)
    assert (tmp_path / "own" / "images").is_dir()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"fmt": "jpeg"}, "fmt must be one of"), ({"task": "tb"}, "task must be one of"),
     ({"size": 16}, "size must be at least 32"), ({"images_per_patient": (3, 1)}, "images_per_patient"),
     ({"prevalence": 1.0}, "prevalence"), ({"patients": 4, "task": "source"}, "patients must be at least 5")],
)
def test_bad_arguments_are_named(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_xray(tmp_path / "bad", **kwargs)
    assert not (tmp_path / "bad").exists()
