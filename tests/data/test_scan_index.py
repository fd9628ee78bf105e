"""The scan index: a rescan reads only new or changed files (counted, not timed), and gives the same table;
parallel workers give the same rows as one process."""
from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from pydicom.data import get_testdata_file
from scan_fixtures import write_png

import medtl.data.case_rows
import medtl.data.scan_parallel
import medtl.io.dicom.dicom_tags
from benchmarks.archive import write_archive
from medtl.data import scan_folder
from medtl.data.folder_walk import list_files, survey
from medtl.data.layouts.layout_class_folders import folder_case_row
from medtl.data.scan_index import index_path, indexed_scan
from medtl.data.scan_index_file import load_index
from medtl.data.scan_parallel import scan_folders

HOUR_AGO = time.time() - 3600


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Counts DICOM header reads and file hashes by file name (the scan runs in this process: few files)."""
    counts: Counter = Counter()
    read_header, sha1 = medtl.io.file_inspection.read_image_header, medtl.data.case_rows.file_sha1

    def counted_read(path, *args, **kwargs):
        counts[f"read {Path(path).name}"] += 1
        return read_header(path, *args, **kwargs)

    def counted_sha1(path):
        counts[f"hash {Path(path).name}"] += 1
        return sha1(path)

    monkeypatch.setattr(medtl.io.file_inspection, "read_image_header", counted_read)
    monkeypatch.setattr(medtl.data.case_rows, "file_sha1", counted_sha1)
    return counts


def _archive(root: Path) -> list[Path]:
    paths = write_archive(root, 8)
    paths.append(write_png(root / "normal" / "extra" / "e.png", seed=1))
    for path in list_files(root):
        os.utime(path, (HOUR_AGO, HOUR_AGO))
    return paths


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.df, b.df)
    assert a.problems == b.problems


def test_rescan_reads_no_file_then_only_the_touched_one(tmp_path: Path, reads: Counter) -> None:
    paths = _archive(tmp_path / "archive")
    first = scan_folder(tmp_path / "archive")
    assert len(first) == 9 and reads["read 0.dcm"] == 4 and reads["hash e.png"] == 1
    reads.clear()
    _same(scan_folder(tmp_path / "archive"), first)
    assert not reads
    os.utime(paths[3])  # touched: same bytes, new modification time
    _same(scan_folder(tmp_path / "archive"), first)
    assert reads == Counter({"read 1.dcm": 1, "hash 1.dcm": 1})


def test_a_rescan_reports_the_problems_of_the_first_scan_without_reading(tmp_path: Path, reads: Counter) -> None:
    root = tmp_path / "archive"
    _archive(root)
    (root / "normal" / "junk.dcm").write_text("not a DICOM file")
    os.utime(root / "normal" / "junk.dcm", (HOUR_AGO, HOUR_AGO))
    (root / "nodule" / "empty").mkdir()
    first = scan_folder(root)
    assert [p.reason.split(" (")[0] for p in first.problems] == ["empty folder", "not a DICOM file"]
    reads.clear()
    _same(scan_folder(root), first)
    assert not reads


def test_changed_added_and_removed_files_are_the_only_ones_read(tmp_path: Path, reads: Counter) -> None:
    root = tmp_path / "archive"
    paths = _archive(root)
    scan_folder(root)
    reads.clear()
    paths[0].write_bytes(paths[2].read_bytes())  # now a copy of another file: a duplicate
    paths[5].unlink()
    shutil.copy(get_testdata_file("CT_small.dcm"), paths[4].parent / "new.dcm")
    table = scan_folder(root)
    assert reads == Counter({"read 0.dcm": 1, "hash 0.dcm": 1, "read new.dcm": 1, "hash new.dcm": 1})
    images = {Path(i).relative_to(root).as_posix() for i in table.df["image"]}
    assert str(paths[0].relative_to(root)) not in images and str(paths[5].relative_to(root)) not in images
    assert "normal/PATIENT000002/new.dcm" in images
    assert [p.reason for p in table.problems] == [f"duplicate of {paths[2]}"]
    files, _, _ = load_index(index_path(root, "class-folders")).folder_entries()[str(paths[5].parent)]
    assert paths[5].name not in files
    reads.clear()
    _same(scan_folder(root, layout="class-folders"), scan_folder(root))  # the index holds the changes
    assert set(reads) <= {"read 0.dcm", "hash 0.dcm", "read new.dcm", "hash new.dcm"}  # just written: reread


def test_a_removed_file_leaves_the_table_and_the_index_without_reading(tmp_path: Path, reads: Counter) -> None:
    root = tmp_path / "archive"
    paths = _archive(root)
    scan_folder(root)
    reads.clear()
    paths[6].unlink()
    assert len(scan_folder(root)) == 8 and not reads
    files, _, _ = load_index(index_path(root, "class-folders")).folder_entries()[str(paths[6].parent)]
    assert sorted(files) == [paths[7].name]


def test_a_changed_slice_rereads_its_series(tmp_path: Path, reads: Counter) -> None:
    series = Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests" / "98892001" / "CT5N"
    folder = shutil.copytree(series, tmp_path / "data" / "lesion" / "P1" / "ct")
    write_png(tmp_path / "data" / "normal" / "P2" / "a.png", seed=3)
    for path in list_files(tmp_path / "data"):
        os.utime(path, (HOUR_AGO, HOUR_AGO))
    first = scan_folder(tmp_path / "data")
    assert len(first) == 2 and first.df["shape"].str.count("x").max() == 2
    reads.clear()
    os.utime(folder / "2062")
    _same(scan_folder(tmp_path / "data"), first)
    assert {k for k in reads if k.startswith("read")} == {f"read {p.name}" for p in folder.iterdir()}


def test_workers_give_the_rows_of_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "archive"
    _archive(root)
    groups = [sorted(g) for g in _by_folder(list_files(root))]
    make_row = partial(folder_case_row, root=root, labelled=True)
    monkeypatch.setattr(medtl.data.scan_parallel, "PARALLEL_FROM", 0)
    monkeypatch.setattr(medtl.data.scan_parallel, "CHUNK_FILES", 3)
    assert scan_folders(groups, make_row, workers=2) == scan_folders(groups, make_row, workers=1)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"format": "3"}', '{"format": 3, "folders": ["/x"]}',
                                  '{"format": 3, "folders": ["/x"], "file_counts": [1], "row_counts": [0], '
                                  '"names": [], "sizes": [], "mtimes": [], "rows": {}, "problems": {}}'])
def test_an_unreadable_or_foreign_index_is_ignored_with_a_warning_and_rebuilt(tmp_path: Path, reads: Counter,
                                                                              text: str) -> None:
    root = tmp_path / "archive"
    _archive(root)
    make_row = partial(folder_case_row, root=root, labelled=True)
    index = index_path(root, "class-folders")
    index.parent.mkdir(parents=True)
    index.write_text(text)
    with pytest.warns(UserWarning, match="not a scan index .*; ignored: this scan reads every file"):
        rows, problems, report = indexed_scan(survey(root)[0], make_row, index)
    assert (len(rows), problems, report.read, report.reused) == (9, [], 9, 0)
    assert indexed_scan(survey(root)[0], make_row, index)[2].reused == 9


def test_an_index_of_another_format_is_rebuilt_quietly(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    root = tmp_path / "archive"
    _archive(root)
    index = index_path(root, "class-folders")
    index.parent.mkdir(parents=True)
    index.write_text('{"format": 2, "folders": {}}')
    assert len(scan_folder(root)) == 9 and not [w for w in recwarn if "scan index" in str(w.message)]
    assert load_index(index) is not None


def _by_folder(paths: list[Path]) -> list[list[Path]]:
    groups: dict[Path, list[Path]] = {}
    for path in paths:
        groups.setdefault(path.parent, []).append(path)
    return list(groups.values())


def test_a_scan_stands_when_its_index_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "archive"
    _archive(root)
    (tmp_path / "home").write_text("a file where MEDTL_HOME's folder should be")
    monkeypatch.setenv("MEDTL_HOME", str(tmp_path / "home"))
    with pytest.warns(UserWarning, match="cannot write the scan index"):
        assert len(scan_folder(root)) == 9
