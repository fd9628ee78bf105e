"""`medtl scan` on a messy class-folders dataset: it finishes, names every problem, and keeps the good cases."""
from __future__ import annotations

from pathlib import Path

import pytest
from scan_fixtures import write_png, write_xray_dcm

from medtl.cli.main import main
from medtl.data.case_table import CaseTable


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    root = tmp_path / "xrays"
    write_png(root / "normal" / "p1" / "a.png", seed=1)
    write_png(root / "normal" / "p1" / "b.png", seed=2)
    write_png(root / "normal" / "c.png", seed=3)
    write_xray_dcm(root / "pneumonia" / "folder_name" / "x1.dcm", patient_id="PAT-007", seed=4)
    write_xray_dcm(root / "pneumonia" / "y.dcm", patient_id="007", seed=5)
    whole = write_xray_dcm(root / "pneumonia" / "broken.dcm", patient_id="PAT-9", seed=6).read_bytes()
    (root / "pneumonia" / "broken.dcm").write_bytes(whole[:200])  # cut inside the header
    (root / "pneumonia" / "notes.txt").write_text("reading notes")
    (root / "normal" / "p9").mkdir()
    return root


def test_scan_lists_every_problem_and_keeps_good_cases(messy: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cases.csv"
    assert main(["scan", str(messy), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    listed = printed.split("problems (3):\n")[1].splitlines()
    problem_lines = {line.split(": ")[0].strip(): line for line in listed if line.startswith("  ")}
    assert set(problem_lines) == {str(messy / "pneumonia" / "broken.dcm"), str(messy / "pneumonia" / "notes.txt"),
                                  str(messy / "normal" / "p9")}
    assert "empty folder" in problem_lines[str(messy / "normal" / "p9")]
    assert "DICOM" in problem_lines[str(messy / "pneumonia" / "broken.dcm")]
    assert "5 cases, 4 patients" in printed
    assert "guessed from file names" in printed

    table = CaseTable.from_csv(out)
    by_image = table.df.set_index(table.df["image"].map(lambda p: Path(p).name))
    assert by_image["label"].to_dict() == {"a.png": "normal", "b.png": "normal", "c.png": "normal",
                                           "x1.dcm": "pneumonia", "y.dcm": "pneumonia"}
    assert by_image["patient_id"].to_dict() == {"a.png": "p1", "b.png": "p1", "c.png": "c",
                                                "x1.dcm": "PAT-007", "y.dcm": "007"}
    assert by_image.loc["x1.dcm", "modality"] == "DX" and by_image.loc["x1.dcm", "spacing"] == "0.7x0.7"
    assert set(by_image["shape"]) == {"32x32"}


def test_scan_refuses_to_overwrite_out_unless_asked(messy: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cases.csv"
    out.write_text("keep me")
    assert main(["scan", str(messy), "--out", str(out)]) == 1
    assert "--overwrite" in capsys.readouterr().err and out.read_text() == "keep me"
    assert main(["scan", str(messy), "--out", str(out), "--overwrite"]) == 0
    assert len(CaseTable.from_csv(out)) == 5


def test_scan_layout_error_names_the_missing_manifest(tmp_path: Path, capsys) -> None:
    write_png(tmp_path / "normal" / "a.png", seed=1)
    assert main(["scan", str(tmp_path), "--layout", "csv"]) == 1
    assert str(tmp_path / "cases.csv") in capsys.readouterr().err
