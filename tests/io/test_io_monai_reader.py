"""`MedtlReader` in MONAI's `LoadImage` / `LoadImaged` gives exactly what `read_image` gives, on real files."""
from __future__ import annotations

from pathlib import Path

import nibabel
import numpy as np
import pytest
from monai.transforms import LoadImage, LoadImaged
from pydicom.data import get_testdata_file

from medtl.io import read_image
from medtl.io.monai_reader import MedtlReader

NIFTI = Path(nibabel.__file__).parent / "tests" / "data" / "anatomical.nii"
CT_SERIES = Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests" / "98892001" / "CT5N"
REAL = [get_testdata_file(name) for name in ("CT_small.dcm", "MR_small_RLE.dcm", "SC_rgb.dcm", "rtdose.dcm",
                                               "JPEG2000.dcm", "MR2_J2KI.dcm")] + [str(NIFTI), str(CT_SERIES)]


@pytest.mark.parametrize("path", REAL, ids=lambda p: Path(p).name)
def test_load_image_matches_read_image(path: str) -> None:
    expected = read_image(path)
    loaded = LoadImage(reader=MedtlReader(), image_only=True)(path)
    assert np.array_equal(np.asarray(loaded), expected.array)
    assert np.allclose(np.asarray(loaded.affine), expected.affine)
    assert loaded.meta["format"] == expected.meta["format"] and loaded.meta["filename_or_obj"] == str(path)


def test_load_imaged_puts_the_channel_first_and_stacks_several_files() -> None:
    path = get_testdata_file("CT_small.dcm")
    case = LoadImaged("image", reader=MedtlReader(), ensure_channel_first=True)({"image": path})
    assert case["image"].shape == (1, 128, 128) and case["image"].meta["modality"] == "CT"
    both = LoadImage(reader=MedtlReader(), image_only=True)([path, path])
    assert both.shape == (2, 128, 128)
