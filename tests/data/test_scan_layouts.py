"""`scan_folder` on each layout: class folders, CSV manifest, MSD; duplicates; DICOM series; layout errors."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scan_fixtures import write_ct_series, write_nifti, write_png, write_xray_dcm

from medtl.data import scan_folder
from medtl.data.scan import detect_layout


def _by_name(table, column: str) -> dict[str, str]:
    return {Path(image).name: value for image, value in zip(table.df["image"], table.df[column])}


def test_class_folders_with_and_without_patient_folders(tmp_path: Path) -> None:
    write_png(tmp_path / "normal" / "p1" / "a.png", seed=1)
    write_png(tmp_path / "normal" / "p1" / "a2.png", seed=2)
    write_png(tmp_path / "normal" / "b.png", seed=3)
    write_png(tmp_path / "tb" / "p2" / "a.png", seed=4)
    write_png(tmp_path / "loose.png", seed=5)
    table = scan_folder(tmp_path, layout="class-folders")
    assert sorted(table.df["case_id"]) == ["a2", "b", "normal_p1_a", "tb_p2_a"]
    rows = table.df.set_index("case_id")
    assert rows["patient_id"].to_dict() == {"normal_p1_a": "p1", "a2": "p1", "b": "b", "tb_p2_a": "p2"}
    assert rows["label"].to_dict() == {"normal_p1_a": "normal", "a2": "normal", "b": "normal", "tb_p2_a": "tb"}
    assert set(table.df["patient_id_source"]) == {"folder", "file name"}
    assert [(Path(p.path).name, p.reason) for p in table.problems] == [("loose.png", "not inside a label folder")]
    assert all(Path(image).is_absolute() for image in table.df["image"])


def test_duplicate_files_keep_the_first_and_list_the_rest(tmp_path: Path) -> None:
    original = write_png(tmp_path / "normal" / "a.png", seed=1)
    copy = tmp_path / "pneumonia" / "copy_of_a.png"
    copy.parent.mkdir()
    copy.write_bytes(original.read_bytes())
    write_png(tmp_path / "pneumonia" / "b.png", seed=2)
    table = scan_folder(tmp_path)
    assert sorted(table.df["case_id"]) == ["a", "b"]
    assert [(p.path, p.reason) for p in table.problems] == [(str(copy), f"duplicate of {original}")]
    assert table.df["image_hash"].str.fullmatch("[0-9a-f]{40}").all()


def test_dicom_series_folder_is_one_case(tmp_path: Path) -> None:
    series = write_ct_series(tmp_path / "tumour" / "patient_folder" / "ct_chest", patient_id="P-01", slices=4)
    write_xray_dcm(tmp_path / "normal" / "x.dcm", patient_id="P-02", seed=1)
    table = scan_folder(tmp_path)
    assert len(table) == 2 and not table.problems
    row = table.df.set_index("case_id").loc["ct_chest"]
    assert (row["image"], row["patient_id"], row["label"], row["modality"]) == (str(series), "P-01", "tumour", "CT")
    assert row["shape"].count("x") == 2 and sorted(row["shape"].split("x")) == ["16", "16", "4"]
    assert row["series"] and row["study"]


def test_csv_manifest_with_relative_paths_and_a_missing_file(tmp_path: Path) -> None:
    write_png(tmp_path / "imgs" / "a.png", seed=1)
    write_xray_dcm(tmp_path / "imgs" / "b.dcm", patient_id="P-B", seed=2)
    write_png(tmp_path / "imgs" / "c.png", seed=3)
    (tmp_path / "cases.csv").write_text(
        "image,label,patient_id\n"
        "imgs/a.png,normal,007\n"
        "imgs/b.dcm,effusion,\n"
        "imgs/gone.png,normal,008\n"
        "imgs/c.png,,009\n"
    )
    assert detect_layout(tmp_path) == "csv"
    table = scan_folder(tmp_path)
    assert _by_name(table, "patient_id") == {"a.png": "007", "b.dcm": "P-B"}
    assert _by_name(table, "label") == {"a.png": "normal", "b.dcm": "effusion"}
    assert [(Path(p.path).name, p.reason) for p in table.problems] == [
        ("c.png", "cases.csv line 5: empty label"), ("gone.png", "cases.csv line 4: file not found")]


def test_csv_manifest_given_by_path_with_masks(tmp_path: Path) -> None:
    write_nifti(tmp_path / "vols" / "v1.nii.gz", np.zeros((16, 16, 16), np.float32))
    write_nifti(tmp_path / "vols" / "v2.nii.gz", np.ones((16, 16, 16), np.float32))
    write_nifti(tmp_path / "vols" / "m1.nii.gz", np.zeros((16, 16, 16), np.uint8))
    write_nifti(tmp_path / "vols" / "m2.nii.gz", np.zeros((16, 16, 8), np.uint8))
    manifest = tmp_path / "lists" / "train.csv"
    manifest.parent.mkdir()
    manifest.write_text("path,label,mask\n"
                        "../vols/v1.nii.gz,a,../vols/m1.nii.gz\n"
                        "../vols/v2.nii.gz,b,../vols/m2.nii.gz\n")
    table = scan_folder(tmp_path, manifest=manifest)
    assert list(table.df["case_id"]) == ["v1"] and Path(table.df["mask"][0]).name == "m1.nii.gz"
    assert table.df["patient_id"][0] == "v1"
    [problem] = table.problems
    assert Path(problem.path).name == "m2.nii.gz" and "16x16x8 differs from image shape 16x16x16" in problem.reason


def _msd(root: Path, training: list[dict[str, str]]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset.json").write_text(json.dumps({"name": "Tiny", "modality": {"0": "MRI"}, "training": training}))


def test_msd_labels_from_mask_foreground_and_patient_ids_from_cases_csv(tmp_path: Path) -> None:
    lesion = np.zeros((16, 16, 16), np.uint8)
    lesion[4:8, 4:8, 4:8] = 1
    for name, mask in (("case_001", lesion), ("case_002", np.zeros((16, 16, 16), np.uint8))):
        write_nifti(tmp_path / "imagesTr" / f"{name}.nii.gz", np.random.default_rng(int(name[-1])).random((16, 16, 16)))
        write_nifti(tmp_path / "labelsTr" / f"{name}.nii.gz", mask)
    _msd(tmp_path, [{"image": f"./imagesTr/case_00{i}.nii.gz", "label": f"./labelsTr/case_00{i}.nii.gz"}
                    for i in (1, 2, 3)])
    table = scan_folder(tmp_path)
    rows = table.df.set_index("case_id")
    assert rows["label"].to_dict() == {"case_001": "lesion", "case_002": "normal"}
    assert rows["patient_id"].to_dict() == {"case_001": "case_001", "case_002": "case_002"}
    assert set(rows["modality"]) == {"MRI"} and set(rows["shape"]) == {"16x16x16"}
    assert rows.loc["case_001", "mask"] == str(tmp_path / "labelsTr" / "case_001.nii.gz")
    assert [(Path(p.path).name, p.reason) for p in table.problems] == [
        ("case_003.nii.gz", "dataset.json training entry 2: file not found")] * 2

    (tmp_path / "cases.csv").write_text("case_id,patient_id\ncase_001,0042\ncase_002,0042\n")
    assert detect_layout(tmp_path) == "msd"
    assert set(scan_folder(tmp_path).df["patient_id"]) == {"0042"}


@pytest.mark.parametrize("content, expected", [
    ("{not json", "not a readable dataset.json"),
    ('{"training": {"image": "a"}}', '"training" list'),
    ('{"training": [{"image": "a.nii.gz"}]}', "training entry 0"),
])
def test_malformed_dataset_json_is_a_clear_error(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "dataset.json").write_text(content)
    with pytest.raises(ValueError, match=expected) as err:
        scan_folder(tmp_path, layout="msd")
    assert str(tmp_path / "dataset.json") in str(err.value)


def test_layout_errors_name_the_file_or_the_choice(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cases.csv: CSV file not found"):
        scan_folder(tmp_path, layout="csv")
    (tmp_path / "cases.csv").write_text("file,diagnosis\na.png,x\n")
    with pytest.raises(ValueError, match=r"cases.csv: a manifest needs columns 'path' \(or 'image'\) and 'label'"):
        scan_folder(tmp_path)
    with pytest.raises(ValueError, match="must be a str among"):
        scan_folder(tmp_path, layout="folders")
    with pytest.raises(ValueError, match="not a folder"):
        scan_folder(tmp_path / "nowhere")
