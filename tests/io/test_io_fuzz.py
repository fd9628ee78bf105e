"""Fuzzing the readers with real files: seeded mutations of DICOM and NIfTI files shipped with pydicom,
pydicom-data and nibabel (truncated, header bytes flipped, required tags deleted, malformed or out-of-range
values, empty pixel data, an unknown or wrong transfer syntax, missing file meta, odd private tags) go through `read_image` and `scan_folder`. Nothing may escape but medtl's own
`ReadError` naming the file, and every mutated file is either a case or a named problem."""
from __future__ import annotations

import warnings
from pathlib import Path

import nibabel
import numpy as np
import pydicom
import pydicom.config
import pytest
from pydicom.data import get_testdata_file
from pydicom.tag import Tag
from pydicom.uid import JPEG2000Lossless, RLELossless

from medtl.data import scan_folder
from medtl.io import ReadError, read_image

DICOM_FILES = ("CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "rtdose.dcm", "SC_rgb.dcm", "JPEG2000.dcm",
               "emri_small.dcm", "liver.dcm", "SC_rgb_expb_2frame.dcm", "emri_small_jpeg_ls_lossless.dcm")
NIFTI_FILES = ("anatomical.nii", "standard.nii.gz", "example4d.nii.gz", "example_nifti2.nii.gz")
DELETED = ("Rows", "Columns", "BitsAllocated", "BitsStored", "SamplesPerPixel", "PhotometricInterpretation",
           "PixelRepresentation", "PixelData", "NumberOfFrames", "PixelSpacing", "ImagePositionPatient")
MALFORMED = {"Rows": [0, 65535], "Columns": [0, 1], "BitsAllocated": [7, 64], "NumberOfFrames": ["1A", "0", "-3"],
             "WindowWidth": ["0", "-5", "abc"], "WindowCenter": ["x"], "PixelSpacing": [["a", "b"], [0, 0], [1]],
             "ImagePositionPatient": [[1, 2], ["q", "r", "s"]], "RescaleSlope": ["abc", "0", "1e400"],
             "SamplesPerPixel": [4, 0], "PhotometricInterpretation": ["FOO", "MONOCHROME1", "PALETTE COLOR"],
             "PixelRepresentation": [3], "PlanarConfiguration": [7], "ImageOrientationPatient": [[0, 0, 0, 0, 0, 0]]}
MUTATIONS_PER_FILE = 22
SEED = 13


def _dicom_mutants(source: Path, rng: np.random.Generator) -> list[tuple[str, bytes | pydicom.Dataset]]:
    data = source.read_bytes()
    mutants: list[tuple[str, bytes | pydicom.Dataset]] = []
    for cut in rng.uniform(0.05, 0.99, 3):
        mutants.append(("truncated", data[: int(len(data) * cut)]))
    for _ in range(3):
        flipped = bytearray(data)
        for at in rng.integers(132, min(len(data), 2048), 8):
            flipped[at] ^= int(rng.integers(1, 256))
        mutants.append(("flipped", bytes(flipped)))
    for keyword in rng.choice(DELETED, 4, replace=False):
        ds = pydicom.dcmread(source)
        if keyword in ds:
            delattr(ds, str(keyword))
        mutants.append((f"no-{keyword}", ds))
    keys = list(MALFORMED)
    for keyword in rng.choice(keys, 6, replace=False):
        ds = pydicom.dcmread(source)
        values = MALFORMED[str(keyword)]
        value = values[int(rng.integers(len(values)))]
        if any(isinstance(v, str) for v in np.atleast_1d(value)):  # text pydicom refuses for the tag's own VR
            ds.add_new(Tag(str(keyword)), "LO", "\\".join(map(str, np.atleast_1d(value))))
        else:
            setattr(ds, str(keyword), value)
        mutants.append((f"bad-{keyword}", ds))
    ds = pydicom.dcmread(source)
    ds.PixelData = b""
    mutants += [("empty-pixels", ds), ("no-meta", data[:128] + b"DICM" + data[data.find(b"\x08\x00", 132):])]
    for syntax in ("1.2.3.4.5", JPEG2000Lossless, RLELossless):  # unknown, or not the one the pixels are in
        ds = pydicom.dcmread(source)
        ds.file_meta.TransferSyntaxUID = syntax
        mutants.append(("syntax", ds))
    ds = pydicom.dcmread(source)
    ds.add_new(0x00090010, "LO", "ODD CREATOR")
    ds.add_new(0x00091001, "UN", bytes(rng.integers(0, 256, 13, dtype=np.uint8)))  # odd length, garbage
    ds.add_new(0x00111005, "OB", b"\xff" * 7)  # a private element without its creator
    return mutants + [("private-tags", ds)]


def _nifti_mutants(source: Path, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    img = nibabel.load(source)
    data = img.header.binaryblock + b"\0" * (int(img.header["vox_offset"]) - img.header.sizeof_hdr) + np.asarray(
        img.dataobj).astype(img.get_data_dtype()).tobytes()
    mutants = [("truncated", data[: int(len(data) * cut)]) for cut in rng.uniform(0.05, 0.99, 6)]
    for _ in range(10):
        flipped = bytearray(data)
        for at in rng.integers(0, img.header.sizeof_hdr, 4):
            flipped[at] ^= int(rng.integers(1, 256))
        mutants.append(("flipped", bytes(flipped)))
    return mutants + [("header-only", data[: img.header.sizeof_hdr]), ("empty", b"")]


def _write(folder: Path, name: str, mutant: bytes | pydicom.Dataset) -> Path:
    folder.mkdir(parents=True)
    path = folder / name
    if isinstance(mutant, bytes):
        path.write_bytes(mutant)
        return path
    try:
        mutant.save_as(path, enforce_file_format=False)
    except Exception:  # noqa: BLE001 -- a value pydicom cannot even write: keep what it wrote, whatever it is
        path.write_bytes(b"")
    return path


@pytest.fixture(scope="module")
def mutated(tmp_path_factory) -> list[Path]:
    rng = np.random.default_rng(SEED)
    root = tmp_path_factory.mktemp("fuzz") / "mutants"
    paths = []
    nifti_folder = Path(nibabel.__file__).parent / "tests" / "data"
    sources = [Path(get_testdata_file(n)) for n in DICOM_FILES] + [nifti_folder / n for n in NIFTI_FILES]
    with warnings.catch_warnings(), pydicom.config.disable_value_validation():
        warnings.simplefilter("ignore")  # pydicom warns about the very values this test writes
        for source in sources:
            make = _nifti_mutants if ".nii" in source.name else _dicom_mutants
            for i, (kind, mutant) in enumerate(make(source, rng)[:MUTATIONS_PER_FILE]):
                name = source.name if ".nii" in source.name else f"{source.stem}.dcm"
                paths.append(_write(root / "fuzz" / f"{source.stem.split('.')[0]}_{i:02d}_{kind}", name, mutant))
    return paths


@pytest.mark.filterwarnings("ignore")
def test_read_image_returns_an_image_or_names_the_file(mutated: list[Path]) -> None:
    assert len(mutated) >= 200
    read, refused = 0, 0
    for path in mutated:
        try:
            image = read_image(path)
        except ReadError as err:
            assert str(path) in str(err)
            refused += 1
        else:
            assert image.array.dtype == np.float32 and image.array.ndim in (2, 3)
            read += 1
    assert read > 20 and refused > 100  # the mutations both spare some files and break many


@pytest.mark.filterwarnings("ignore")
def test_scan_folder_takes_or_names_every_mutated_file(mutated: list[Path]) -> None:
    root = mutated[0].parent.parent.parent
    table = scan_folder(root, layout="class-folders")
    taken = set(table.df["image"])
    named = {p.path for p in table.problems}
    for path in mutated:
        assert str(path) in taken or str(path) in named or str(path.parent) in taken, path
    assert len(table) > 20 and len(named) > 100
