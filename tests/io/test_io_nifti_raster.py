"""NIfTI volumes (nibabel's own test files) and PNG/JPEG images."""
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from nibabel.testing import data_path
from PIL import Image

from medtl.io import ReadError, detect_format, read_header, read_image

NIBABEL_FILES = Path(data_path)


@pytest.mark.parametrize("name", ["anatomical.nii", "resampled_anat_moved.nii", "standard.nii.gz"])
def test_nifti_matches_nibabel_closest_canonical(name):
    path = NIBABEL_FILES / name
    image = read_image(path)
    reference = nib.as_closest_canonical(nib.load(path))

    assert image.array.dtype == np.float32
    np.testing.assert_array_equal(image.array, reference.get_fdata(dtype=np.float32))
    np.testing.assert_allclose(image.affine, reference.affine)
    assert nib.aff2axcodes(image.affine) == ("R", "A", "S")
    assert image.spacing == pytest.approx(reference.header.get_zooms()[:3])
    assert image.meta == {"source": str(path), "format": "nifti", "modality": None, "patient_id": None,
                          "study_uid": None, "series_uid": None}
    header = read_header(path)
    assert (header.shape, header.format) == (image.array.shape, "nifti")
    assert header.spacing == pytest.approx(image.spacing)


def test_non_canonical_nifti_is_flipped_and_permuted(tmp_path):
    data = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6, 1)  # a 4D file holding one volume
    affine = np.array([[0, 0, -2.0, 10], [-1.0, 0, 0, 20], [0, 3.0, 0, 30], [0, 0, 0, 1]])  # axes: P, S, L
    nib.save(nib.Nifti1Image(data, affine), tmp_path / "odd.nii.gz")
    image = read_image(tmp_path / "odd.nii.gz")

    assert image.array.shape == (6, 4, 5) and image.spacing == pytest.approx((2.0, 1.0, 3.0))
    voxel = np.array([1, 2, 3])  # the original voxel, found again through the two affines
    world = affine @ np.append(voxel, 1)
    moved = np.round(np.linalg.inv(image.affine) @ world)[:3].astype(int)
    assert image.array[tuple(moved)] == data[1, 2, 3, 0]
    assert read_header(tmp_path / "odd.nii.gz").shape == (6, 4, 5)


@pytest.mark.parametrize("name", ["example4d.nii.gz", "example_nifti2.nii.gz"])
def test_4d_nifti_is_refused(name):
    with pytest.raises(ReadError, match="expected a 3D volume"):
        read_image(NIBABEL_FILES / name)
    with pytest.raises(ReadError, match="expected a 3D volume"):
        read_header(NIBABEL_FILES / name)


def test_damaged_nifti_raises_read_error(tmp_path):
    (tmp_path / "bad.nii.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ReadError, match="bad.nii.gz: not a readable NIfTI file"):
        read_image(tmp_path / "bad.nii.gz")


@pytest.mark.parametrize("dtype, top", [(np.uint8, 255), (np.uint16, 65535)])
def test_png_round_trip_keeps_raw_values(tmp_path, dtype, top):
    values = np.linspace(0, top, 32 * 32).round().astype(dtype).reshape(32, 32)
    Image.fromarray(values[:, :24]).save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png")

    assert image.array.dtype == np.float32 and image.array.shape == (32, 24)
    np.testing.assert_array_equal(image.array, values[:, :24].astype(np.float32))
    assert image.spacing == (1.0, 1.0) and image.meta["format"] == "png"
    assert read_header(tmp_path / "a.png").shape == (32, 24)


def test_rgb_png_becomes_grey_luma(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "colour.png")
    image = read_image(tmp_path / "colour.png")

    np.testing.assert_allclose(image.array, rgb @ np.array([0.299, 0.587, 0.114]), atol=1e-3)
    pillow_grey = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32)
    assert np.abs(image.array - pillow_grey).max() <= 1.0


def test_jpeg_reads_like_pillow_decodes_it(tmp_path):
    grey = (np.add.outer(np.arange(32), np.arange(32)) * 4).astype(np.uint8)
    Image.fromarray(grey).save(tmp_path / "a.JPEG")
    image = read_image(tmp_path / "a.JPEG")
    np.testing.assert_array_equal(image.array, np.asarray(Image.open(tmp_path / "a.JPEG"), dtype=np.float32))
    assert image.meta["format"] == "jpeg" and detect_format(tmp_path / "a.JPEG") == "jpeg"


def test_missing_or_damaged_raster_raises_read_error(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(ReadError, match="broken.png: not a readable PNG/JPEG image"):
        read_image(tmp_path / "broken.png")
    with pytest.raises(ReadError, match="no such file or folder"):
        read_image(tmp_path / "absent.png")
