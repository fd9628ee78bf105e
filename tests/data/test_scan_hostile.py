"""Hostile files in a scan: each becomes its own named problem or warning, the scan always finishes, and the
summary of many problems fits one screen."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from scan_fixtures import write_nifti, write_png, write_xray_dcm

from medtl.cli.main import main
from medtl.data import scan_folder
from medtl.io import ReadError, read_image


def _name(table, path: Path) -> str:
    return next(p.reason for p in table.problems if Path(p.path).name == path.name)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A 2D grey X-ray cohort (class folders) holding one of each hostile file."""
    root = tmp_path / "cxr"
    for i in range(6):
        write_xray_dcm(root / ("normal" if i % 2 else "nodule") / f"P{i}" / "a.dcm", patient_id=f"P{i}", seed=i)
    whole = write_xray_dcm(root / "nodule" / "P7" / "cut.dcm", patient_id="P7", seed=7).read_bytes()
    (root / "nodule" / "P7" / "cut.dcm").write_bytes(whole[: len(whole) - 2 * 32 * 32 // 3])  # pixels cut
    ds = pydicom.dcmread(write_xray_dcm(root / "normal" / "P8" / "nopix.dcm", patient_id="P8", seed=8))
    del ds.PixelData
    ds.save_as(root / "normal" / "P8" / "nopix.dcm")
    volume = np.zeros((16, 16, 8), np.float32)
    volume[3, 3, 3] = np.nan
    write_nifti(root / "normal" / "P9" / "vol.nii.gz", volume)
    shutil.copy(get_testdata_file("badVR.dcm"), root / "normal" / "P10.dcm")  # NumberOfFrames '1A'
    return root


def test_each_hostile_file_is_named_and_the_good_cases_kept(hostile: Path) -> None:
    table = scan_folder(hostile)
    assert len(table) == 6
    assert "truncated" in _name(table, Path("cut.dcm"))
    assert "no pixel data" in _name(table, Path("nopix.dcm"))
    assert "a 3D image (16x16x8) among 2D images (6 of 7 cases)" in _name(table, Path("vol.nii.gz"))
    assert "'1A'" in _name(table, Path("P10.dcm"))
    assert any("Invalid value for VR IS" in w.reason for w in table.warnings)


def test_scan_cli_exits_0_writes_every_problem_beside_the_table(hostile: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "tables" / "cases.csv"
    out.parent.mkdir()
    assert main(["scan", str(hostile), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "UserWarning" not in printed.err + printed.out  # pydicom's warnings are kept with their file
    with open(out.parent / "scan_problems.csv") as handle:
        rows = list(csv.DictReader(handle))
    named = {Path(r["path"]).name: r for r in rows}
    assert {"cut.dcm", "nopix.dcm", "vol.nii.gz", "P10.dcm"} <= set(named)
    assert named["cut.dcm"]["severity"] == "problem" and named["cut.dcm"]["kind"] == "truncated"
    assert any(r["severity"] == "warning" and r["kind"] == "Invalid value for VR IS" for r in rows)
    assert main(["scan", str(hostile), "--out", str(out)]) == 1  # the written files are kept
    assert main(["scan", str(hostile), "--verbose"]) == 0
    assert "warnings (" in capsys.readouterr().out


def test_many_problems_are_counted_by_kind_on_one_screen(tmp_path: Path, capsys) -> None:
    write_png(tmp_path / "normal" / "a.png", seed=1)
    for i in range(40):
        (tmp_path / "normal" / f"junk{i}.dcm").write_bytes(b"not a dicom file" * (i + 1))
        (tmp_path / "normal" / f"notes{i}.txt").write_text("notes")
    assert main(["scan", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert len(printed.splitlines()) < 25
    assert "problems (80 files not taken), by kind:" in printed
    assert "   80  not a DICOM file: junk0.dcm, junk1.dcm, junk10.dcm, ..." in printed
    assert main(["scan", str(tmp_path), "--verbose"]) == 0
    assert len(capsys.readouterr().out.splitlines()) > 80


def test_invalid_voi_window_reads_the_full_range_with_a_warning(tmp_path: Path) -> None:
    path = write_xray_dcm(tmp_path / "w.dcm", patient_id="P1", seed=1)
    ds = pydicom.dcmread(path)
    ds.WindowCenter, ds.WindowWidth = 100, 0
    ds.save_as(path)
    with pytest.warns(UserWarning, match="invalid VOI window"):
        image = read_image(path)
    assert np.array_equal(image.array, ds.pixel_array.astype(np.float32))


def test_a_colour_file_among_grey_ones_is_kept_with_a_warning(tmp_path: Path) -> None:
    for i in range(3):
        write_png(tmp_path / "normal" / f"g{i}.png", seed=i)
    from PIL import Image

    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "normal" / "rgb.png")
    table = scan_folder(tmp_path)
    assert len(table) == 4
    assert [Path(w.path).name for w in table.warnings] == ["rgb.png"] and "colour" in table.warnings[0].reason


@pytest.mark.filterwarnings("ignore:Invalid value for VR IS")
def test_read_image_names_the_file_for_any_malformed_value() -> None:
    with pytest.raises(ReadError, match="badVR.dcm: unreadable .*'1A'"):
        read_image(get_testdata_file("badVR.dcm"))


@pytest.mark.filterwarnings("ignore:Invalid value for VR DS")
@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_a_case_that_fails_to_decode_stops_the_run_before_training_naming_its_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: str) -> None:
    from medtl.config import ExperimentConfig
    from medtl.engine.training.setup import Pipelines, case_cache

    monkeypatch.setenv("MEDTL_HOME", str(tmp_path / "home"))
    good = write_xray_dcm(tmp_path / "a.dcm", patient_id="P1", seed=1)
    ds = pydicom.dcmread(write_xray_dcm(tmp_path / "nan.dcm", patient_id="P2", seed=2))
    ds.RescaleSlope, ds.RescaleIntercept = "1", "nan"  # decodes to NaN everywhere
    ds.save_as(tmp_path / "nan.dcm")
    cfg = ExperimentConfig.from_dict({"transforms": {"input_size": [16, 16]}, "data": {"cache": cache}})
    items = [{"image": str(good), "y": 0}, {"image": str(tmp_path / "nan.dcm"), "y": 1}]
    with pytest.raises(ValueError, match=r"nan\.dcm: 1024 values are NaN or infinite.*stops before training"):
        case_cache(cfg, items, Pipelines.from_config(cfg), progress=False)
