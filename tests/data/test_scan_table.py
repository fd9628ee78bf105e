"""The table a scan returns: string ids survive a CSV round trip, case ids are unique, the summary is complete."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from scan_fixtures import write_png

from medtl.data import CaseTable, Problem, scan_folder, summarize
from medtl.data.case_ids import unique_case_ids


def test_csv_round_trip_keeps_ids_as_strings(tmp_path: Path) -> None:
    write_png(tmp_path / "1" / "007" / "0001.png", seed=1)
    write_png(tmp_path / "1" / "007" / "0002.png", seed=2)
    table = scan_folder(tmp_path)
    back = CaseTable.from_csv(table.to_csv(tmp_path / "cases.csv"))
    assert list(back.df["patient_id"]) == ["007", "007"]
    assert list(back.df["case_id"]) == ["0001", "0002"] and back.classes == ["1"]
    assert list(back.df["image_hash"]) == list(table.df["image_hash"])
    pd.testing.assert_frame_equal(back.df[["case_id", "patient_id", "label", "shape"]],
                                  table.df[["case_id", "patient_id", "label", "shape"]])


def test_unique_case_ids_lengthen_only_the_clashing_ones() -> None:
    ids = unique_case_ids([["a", "n_p1_a"], ["a", "t_p2_a"], ["b", "n_b"], ["s", "n_s", "n_s_1.2"],
                           ["s", "n_s", "n_s_1.3"], ["x", "n_x"], ["x", "n_x"]])
    assert ids == ["n_p1_a", "t_p2_a", "b", "n_s_1.2", "n_s_1.3", "n_x", "n_x_2"]


def test_summary_counts_labels_patients_geometry_and_problems() -> None:
    df = pd.DataFrame({
        "case_id": ["a", "b", "c", "d"], "patient_id": ["p1", "p1", "p2", "p3"], "image": list("abcd"),
        "label": ["normal", "normal", "normal", "tb"], "modality": ["DX", "DX", "CR", None],
        "shape": ["32x32", "32x32", "64x64", "32x32"], "spacing": ["0.7x0.7", "0.5x0.6", None, "1x1"],
        "patient_id_source": ["dicom", "dicom", "folder", "folder"],
    })
    text = summarize(CaseTable(df, [Problem("/d/x.txt", "not an image")]))
    lines = text.splitlines()
    assert lines[0] == "4 cases, 3 patients"
    assert lines[1].split() == ["label", "cases", "patients"]
    assert lines[2].split() == ["normal", "3", "2"] and lines[3].split() == ["tb", "1", "1"]
    assert "modalities: DX (2), CR (1), unknown (1)" in lines
    assert "shapes: 32x32 (3), 64x64 (1)" in lines
    assert "spacing (2D): 0.5x0.6 to 1x1 mm" in lines
    assert "guessed" not in text and not any(line.startswith("masks") for line in lines)
    assert lines[-2:] == ["problems (1):", "  /d/x.txt: not an image"]
    with_masks = summarize(CaseTable(df.assign(mask=["a_mask", None, "c_mask", None]))).splitlines()
    assert with_masks[4] == "masks: 2 of 4 cases"


def test_summary_warns_when_patient_ids_come_from_file_names() -> None:
    df = pd.DataFrame({"case_id": ["a"], "patient_id": ["a"], "image": ["a.png"], "patient_id_source": ["file name"]})
    assert "patient ids of 1 cases were guessed from file names" in summarize(CaseTable(df))
