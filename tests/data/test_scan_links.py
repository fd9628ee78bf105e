"""Symbolic links in a dataset folder, nested patient folders, scans that find no case, the unlabelled layout."""
from __future__ import annotations

import os
from pathlib import Path

from scan_fixtures import write_ct_series, write_png

from medtl.cli.main import main
from medtl.data import scan_folder
from medtl.data.layouts.layout_unlabelled import scan_new_data


def test_label_folders_linked_to_the_images_are_followed(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    for i in range(3):
        write_png(archive / "pat_a" / f"{i}.png", seed=i)
    write_png(archive / "pat_b" / "x.png", seed=9)
    root = tmp_path / "cohort"
    (root / "normal").mkdir(parents=True)
    os.symlink(archive / "pat_a", root / "normal" / "pat_a")         # a link to a folder
    (root / "nodule" / "pat_b").mkdir(parents=True)
    os.symlink(archive / "pat_b" / "x.png", root / "nodule" / "pat_b" / "x.png")  # a link to a file
    os.symlink(root, root / "nodule" / "loop")                         # a link back to the top
    table = scan_folder(root)
    assert len(table) == 4 and table.df.groupby("label")["patient_id"].first().to_dict() == {
        "nodule": "pat_b", "normal": "pat_a"}
    assert [(Path(p.path).name, p.reason.split(":")[0]) for p in table.problems] == [("loop", "symbolic link cycle")]


def test_files_nested_below_the_patient_folder_belong_to_that_patient(tmp_path: Path) -> None:
    write_png(tmp_path / "normal" / "P1" / "study1" / "series2" / "a.png", seed=1)
    write_ct_series(tmp_path / "nodule" / "P2" / "study" / "ct", patient_id="")
    table = scan_folder(tmp_path)
    assert sorted(table.df["patient_id"]) == ["P1", "P2"] and len(table) == 2


def test_a_scan_without_cases_says_why(tmp_path: Path, capsys) -> None:
    for i in range(3):
        write_png(tmp_path / f"{i}.png", seed=i)
    assert main(["scan", str(tmp_path)]) == 0
    assert "no case found: 3 files, none inside a label folder: use --layout unlabelled" in capsys.readouterr().out


def test_unlabelled_layout_reads_as_predict_does(tmp_path: Path) -> None:
    write_png(tmp_path / "P1" / "a.png", seed=1)
    write_png(tmp_path / "b.png", seed=2)
    table = scan_folder(tmp_path, layout="unlabelled")
    assert table.df.drop(columns="image_hash").equals(scan_new_data(tmp_path, layout="folder").df.drop(
        columns="image_hash"))
    assert sorted(table.df["patient_id"]) == ["P1", "b"] and table.df["label"].isna().all()
