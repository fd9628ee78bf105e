"""`medtl synth`: writes the cohort it is asked for and reports it; bad arguments give exit code 2."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from medtl.cli.main import main


def test_synth_xray_writes_and_reports_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "xray"
    assert main(["synth", "xray", str(out), "--patients", "5", "--size", "32", "--format", "png",
                 "--task", "source", "--seed", "1"]) == 0
    cases = pd.read_csv(out / "cases.csv", dtype=str)
    printed = capsys.readouterr().out
    assert f"wrote {len(cases)} images of 5 patients (png)" in printed
    for label, group in cases.groupby("label"):
        assert f"{label:<13} {1:>4} patients {len(group):>5} images" in printed
    assert all(path.endswith(".png") for path in cases["path"])


def test_synth_mri_dicom_series(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mri"
    assert main(["synth", "mri", str(out), "--patients", "2", "--format", "dicom"]) == 0
    cases = pd.read_csv(out / "cases.csv", dtype=str)
    assert all((out / path).is_dir() and path.startswith("dicom/") for path in cases["path"])
    assert "of 2 patients (dicom)" in capsys.readouterr().out


def test_synth_refuses_a_folder_with_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "thesis.docx").write_text("draft")
    assert main(["synth", "xray", str(tmp_path), "--patients", "2", "--size", "32"]) == 1
    assert "thesis.docx" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.docx"]


def test_synth_rejects_options_of_the_other_kind(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["synth", "mri", str(tmp_path / "m"), "--size", "64"])
    with pytest.raises(SystemExit):
        main(["synth", "xray", str(tmp_path / "x"), "--format", "nifti"])


def test_synth_mri_source_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "mri", str(tmp_path / "s"), "--patients", "5", "--task", "source"]) == 0
    assert set(pd.read_csv(tmp_path / "s" / "cases.csv")["label"]) == {
        "normal", "atrophy", "hypointense", "mass", "small_lesions"}
    assert "small_lesions" in capsys.readouterr().out
