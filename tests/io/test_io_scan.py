"""scan_files: headers for the good files, one header per volume series, a named problem for every bad file."""
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from medtl.io import read_image, scan_files

PYDICOM_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
CT_SERIES = PYDICOM_FILES / "dicomdirtests" / "98892001" / "CT5N"  # five contiguous CT slices
CR_FILE = PYDICOM_FILES / "dicomdirtests" / "77654033" / "CR1" / "6154"


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    for number, slice_file in enumerate(sorted(CT_SERIES.iterdir())):
        shutil.copy(slice_file, tmp_path / f"slice{number}.dcm")
    shutil.copy(CR_FILE, tmp_path / "xray.dcm")
    shutil.copy(PYDICOM_FILES / "CT_small.dcm", tmp_path / "lone_ct_slice.dcm")
    shutil.copy(PYDICOM_FILES / "rtplan.dcm", tmp_path / "plan.dcm")
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "photo.png")
    (tmp_path / "corrupt.dcm").write_bytes((PYDICOM_FILES / "CT_small.dcm").read_bytes()[:200])
    (tmp_path / "notes.txt").write_text("patient list")
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    return tmp_path


def test_scan_groups_the_series_and_names_each_problem(mixed_folder):
    headers, problems = scan_files(sorted(mixed_folder.iterdir()))
    by_path = {Path(h.path).name: h for h in headers}
    reasons = {Path(p.path).name: p.reason for p in problems}

    assert sorted(by_path) == sorted([mixed_folder.name, "xray.dcm", "lone_ct_slice.dcm", "photo.png"])
    series = by_path[mixed_folder.name]
    assert (series.format, series.shape, series.modality) == ("dicom-series", (16, 16, 5), "CT")
    assert series.series_uid == pydicom.dcmread(next(CT_SERIES.iterdir())).SeriesInstanceUID
    assert by_path["xray.dcm"].shape == (16, 16) and by_path["xray.dcm"].modality == "CR"
    assert by_path["lone_ct_slice.dcm"].shape == (128, 128)
    assert by_path["photo.png"].format == "png"

    assert sorted(reasons) == ["corrupt.dcm", "notes.txt", "plan.dcm"]
    assert "not a DICOM file" in reasons["notes.txt"]
    assert "without an image" in reasons["plan.dcm"]
    assert "without an image" in reasons["corrupt.dcm"]  # pydicom reads a truncated header as far as it goes


def test_scanned_series_header_reads_back_as_that_volume(mixed_folder):
    headers, _ = scan_files(list(mixed_folder.iterdir()))
    series = next(h for h in headers if h.format == "dicom-series")
    volume = read_image(series.path, series_uid=series.series_uid)
    assert volume.array.shape == series.shape and volume.spacing == pytest.approx(series.spacing)


def test_broken_series_is_a_problem_for_each_of_its_files(tmp_path):
    slices = sorted(CT_SERIES.iterdir())
    for number, slice_file in enumerate(slices):
        if number != 2:  # drop a middle slice
            shutil.copy(slice_file, tmp_path / f"slice{number}.dcm")
    headers, problems = scan_files(list(tmp_path.iterdir()))
    assert headers == []
    assert sorted(p.path for p in problems) == sorted(str(f) for f in tmp_path.iterdir())  # every file named
    assert all("missing slice" in p.reason for p in problems)


def test_inspections_travel_between_processes_and_give_the_same_headers(mixed_folder):
    import pickle

    from medtl.io import inspect_file
    from medtl.io.scan import headers_of

    paths = sorted(p for p in mixed_folder.iterdir() if not p.name.startswith("."))
    travelled = [pickle.loads(pickle.dumps(inspect_file(p))) for p in paths]  # as a worker process returns them
    assert headers_of(travelled) == scan_files(paths)
