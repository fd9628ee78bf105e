"""make_mri: Decathlon layout, NIfTI geometry, lesions vs masks and voxels, DICOM series geometry, determinism."""
from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
from scipy import ndimage

from medtl.synth import make_mri
from medtl.synth.phantoms_mri import SOURCE_LABELS, sample_head

SHAPE, SPACING = (16, 16, 12), (1.5, 1.5, 2.0)
RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


@pytest.fixture(scope="module")
def nifti(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mri(tmp_path_factory.mktemp("mri") / "nifti", patients=6, seed=2, shape=SHAPE, spacing=SPACING,
                    volumes_per_patient=(1, 2))


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mri(tmp_path_factory.mktemp("mri") / "dicom", patients=6, seed=2, shape=SHAPE, spacing=SPACING,
                    volumes_per_patient=(1, 2), fmt="dicom")


def test_decathlon_manifest_matches_files(nifti: Path) -> None:
    manifest = json.loads((nifti / "dataset.json").read_text())
    assert manifest["labels"] == {"0": "background", "1": "lesion"} and manifest["modality"] == {"0": "MRI"}
    assert manifest["numTraining"] == len(manifest["training"]) == len(list((nifti / "imagesTr").iterdir()))
    for pair in manifest["training"]:
        image, label = nib.load(nifti / pair["image"]), nib.load(nifti / pair["label"])
        assert image.shape == label.shape == SHAPE
        assert np.allclose(image.affine, label.affine) and label.get_data_dtype() == np.uint8
    cases = pd.read_csv(nifti / "cases.csv", dtype=str)
    assert sorted("./" + p for p in cases["path"]) == sorted(p["image"] for p in manifest["training"])
    assert (cases.groupby("patient_id")["label"].nunique() == 1).all()
    assert set(cases["label"]) == {"normal", "lesion"} and cases["patient_id"].nunique() == 6


@pytest.mark.parametrize("oblique", [False, True])
def test_header_spacing_and_orientation(tmp_path: Path, oblique: bool) -> None:
    out = make_mri(tmp_path / "o", patients=2, shape=SHAPE, spacing=SPACING, volumes_per_patient=(1, 1),
                   oblique=oblique)
    image = nib.load(next((out / "imagesTr").iterdir()))
    assert np.allclose(image.header.get_zooms(), SPACING)
    assert image.header["sform_code"] == image.header["qform_code"] == 1
    axis_aligned = np.count_nonzero(np.abs(image.affine[:3, :3]) > 1e-6) == 3
    assert axis_aligned != oblique
    assert (nib.aff2axcodes(image.affine) == ("R", "A", "S")) != oblique


def test_lesions_sit_where_findings_say(nifti: Path) -> None:
    cases = pd.read_csv(nifti / "cases.csv", dtype=str)
    findings = json.loads((nifti / "findings.json").read_text())
    for row in cases.itertuples():
        image, label = nib.load(nifti / row.path), nib.load(nifti / row.mask)
        volume, mask = image.get_fdata(), np.asarray(label.dataobj) > 0
        found = findings[Path(row.path).name.removesuffix(".nii.gz")]
        if row.label == "normal":
            assert not found and not mask.any()
            continue
        (lesion,) = found
        assert lesion["kind"] == "lesion" and mask[tuple(lesion["voxel"])]
        assert ndimage.label(mask)[1] == 1
        assert np.allclose(nib.affines.apply_affine(image.affine, lesion["voxel"]), lesion["world"], atol=1e-2)
        surround = ndimage.binary_dilation(mask, iterations=2) & ~mask
        assert volume[mask].mean() > 1.2 * volume[surround].mean()


def test_same_seed_same_voxels(nifti: Path, tmp_path: Path) -> None:
    again = make_mri(tmp_path / "again", patients=6, seed=2, shape=SHAPE, spacing=SPACING,
                     volumes_per_patient=(1, 2))
    other = make_mri(tmp_path / "other", patients=6, seed=5, shape=SHAPE, spacing=SPACING,
                     volumes_per_patient=(1, 2))
    assert (nifti / "findings.json").read_text() == (again / "findings.json").read_text()
    for path in (nifti / "imagesTr").iterdir():
        voxels = np.asarray(nib.load(path).dataobj)
        assert np.array_equal(voxels, np.asarray(nib.load(again / "imagesTr" / path.name).dataobj))
    first = sorted((nifti / "imagesTr").iterdir())[0].name
    assert not np.array_equal(nib.load(nifti / "imagesTr" / first).dataobj,
                              nib.load(other / "imagesTr" / first).dataobj)


def test_dicom_series_match_the_nifti_geometry_and_voxels(series: Path, nifti: Path) -> None:
    cases = pd.read_csv(series / "cases.csv", dtype=str)
    study_by_patient: dict[str, set[str]] = {}
    for row in cases.itertuples():
        assert Path(row.path).parts[:3] == ("dicom", row.label, row.patient_id)
        case_id = Path(row.path).name
        files = sorted((series / row.path).glob("*.dcm"))
        slices = [pydicom.dcmread(f) for f in files]
        numbers = [int(ds.InstanceNumber) for ds in slices]
        assert sorted(numbers) == list(range(1, SHAPE[2] + 1)) and numbers != sorted(numbers)
        affine_lps = RAS_TO_LPS @ nib.load(series / row.mask).affine
        reference = np.asarray(nib.load(nifti / "imagesTr" / f"{case_id}.nii.gz").dataobj)
        for ds in slices:
            k = int(ds.InstanceNumber) - 1
            assert np.allclose([float(v) for v in ds.ImagePositionPatient], affine_lps[:3] @ [0, 0, k, 1], atol=1e-3)
            assert np.allclose([float(v) for v in ds.ImageOrientationPatient],
                               np.r_[affine_lps[:3, 0] / SPACING[0], affine_lps[:3, 1] / SPACING[1]], atol=1e-5)
            assert [float(v) for v in ds.PixelSpacing] == [SPACING[1], SPACING[0]]
            assert float(ds.SliceThickness) == SPACING[2] and ds.Modality == "MR" and ds.PatientID == row.patient_id
            assert np.array_equal(apply_rescale(ds), reference[:, :, k].T)
        assert len({ds.SeriesInstanceUID for ds in slices}) == 1
        study_by_patient.setdefault(row.patient_id, set()).update(ds.StudyInstanceUID for ds in slices)
    assert all(len(uids) == 1 for uids in study_by_patient.values())


def apply_rescale(ds: pydicom.Dataset) -> np.ndarray:
    return ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def test_oblique_series_reads_back_in_simpleitk_with_the_nifti_affine(tmp_path: Path) -> None:
    out = make_mri(tmp_path / "oblique", patients=2, shape=SHAPE, spacing=SPACING, volumes_per_patient=(1, 1),
                   fmt="dicom", oblique=True)
    row = pd.read_csv(out / "cases.csv", dtype=str).iloc[0]
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(out / row["path"])))
    image = reader.Execute()
    direction = np.array(image.GetDirection()).reshape(3, 3) * np.array(image.GetSpacing())
    affine_lps = RAS_TO_LPS @ nib.load(out / row["mask"]).affine
    assert np.allclose(direction, affine_lps[:3, :3], atol=1e-4)
    assert np.allclose(image.GetOrigin(), affine_lps[:3, 3], atol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"fmt": "analyze"}, "fmt must be one of"), ({"shape": (16, 16)}, "shape must be"),
     ({"spacing": (1.0, 0.0, 1.0)}, "spacing must be"), ({"volumes_per_patient": (0, 1)}, "volumes_per_patient"),
     ({"patients": 1}, "patients must be at least 2")],
)
def test_bad_arguments_are_named(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_mri(tmp_path / "bad", **kwargs)


def test_source_task_draws_every_finding_kind(tmp_path: Path) -> None:
    out = make_mri(tmp_path / "source", patients=10, seed=1, shape=(24, 24, 16), spacing=(2.0, 2.0, 3.0),
                   volumes_per_patient=(1, 1), task="source")
    cases = pd.read_csv(out / "cases.csv", dtype=str)
    findings = json.loads((out / "findings.json").read_text())
    assert cases["label"].value_counts().to_dict() == {label: 2 for label in SOURCE_LABELS}
    kinds = {row.label: {f["kind"] for f in findings[Path(row.path).name.removesuffix(".nii.gz")]}
             for row in cases.itertuples()}
    assert kinds == {"normal": set(), "atrophy": set(), "hypointense": {"hypointense"}, "mass": {"mass"},
                     "small_lesions": {"lesion"}}
    for row in cases.itertuples():
        volume, mask = nib.load(out / row.path).get_fdata(), np.asarray(nib.load(out / row.mask).dataobj) > 0
        assert mask.any() == (row.label not in ("normal", "atrophy"))
        if row.label == "hypointense":  # dark lesions: darker than the tissue around them
            assert volume[mask].mean() < volume[ndimage.binary_dilation(mask, iterations=2) & ~mask].mean()


def test_second_style_inverts_grey_and_white_and_draws_irregular_lesions() -> None:
    rng = np.random.default_rng(3)
    heads = [sample_head(rng, "lesion", 0.06, style="second") for _ in range(6)]
    assert all(head.grey > head.white for head in heads)
    assert all(len(head.lesions) == 1 and len(head.lesions[0].blob_centers) >= 2 for head in heads)
    medtl_head = sample_head(rng, "lesion", 0.06)
    assert medtl_head.grey < medtl_head.white and len(medtl_head.lesions[0].blob_centers) == 1


@pytest.mark.parametrize(("kwargs", "message"), [({"task": "tumour"}, "task must be one of"),
                                                  ({"style": "t3"}, "style must be one of")])
def test_unknown_task_or_style_is_named(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_mri(tmp_path / "bad", **kwargs)


def test_source_heads_draw_their_tissue_intensities_and_target_heads_keep_theirs() -> None:
    source = [sample_head(np.random.default_rng(i), SOURCE_LABELS[i % 5], 0.06) for i in range(40)]
    assert {h.grey > h.white for h in source} == {True, False}  # T1-like and T2-like orders both occur
    assert np.ptp([h.skull for h in source]) > 0.5 and np.ptp([h.scalp for h in source]) > 0.5
    target = [sample_head(np.random.default_rng(i), "lesion", 0.06) for i in range(10)]
    assert all(h.skull == h.scalp == 0.9 and h.white > h.grey for h in target)
