"""Single DICOM files shipped inside pydicom, read by medtl and compared with SimpleITK's reading."""
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from medtl.io import ReadError, read_header, read_image

# Only files already on disk: pydicom fetches some test files from the network, those are never used here.
PYDICOM_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
CR_MONOCHROME1 = "dicomdirtests/77654033/CR1/6154"

# name -> largest allowed difference from SimpleITK (lossy codecs decode slightly differently per library)
FILES = {
    CR_MONOCHROME1: 1e-3,  # CR, MONOCHROME1, rescale + window
    "CT_small.dcm": 0,  # CT, rescale to HU
    "MR_small.dcm": 1e-3,  # window
    "MR_small_bigendian.dcm": 1e-3,
    "MR_small_RLE.dcm": 1e-3,  # RLE lossless
    "MR_small_jp2klossless.dcm": 1e-3,  # JPEG 2000 lossless
    "MR_small_jpeg_ls_lossless.dcm": 1e-3,  # JPEG-LS lossless
    "JPEGLSNearLossless_16.dcm": 0,  # JPEG-LS near-lossless, 16-bit
    "JPGExtended.dcm": 1,  # JPEG extended (lossy), 12-bit
    "JPEG2000.dcm": 0,  # JPEG 2000, signed, NumberOfFrames = 1
    "693_J2KI.dcm": 1e-3,  # JPEG 2000 lossy CT, rescale + window
    "SC_rgb_jpeg_dcmtk.dcm": 1e-3,  # JPEG baseline, YBR_FULL colour
    "SC_rgb_jpeg_gdcm.dcm": 1e-3,  # JPEG lossless (process 14), RGB
    "SC_rgb_rle.dcm": 1e-3,  # RLE colour
    "examples_palette.dcm": 1e-3,  # PALETTE COLOR
    "image_dfl.dcm": 0,  # deflated explicit VR
}


def local_file(name: str) -> Path:
    path = PYDICOM_FILES / name
    assert path.is_file(), f"{name} is not shipped with this pydicom"
    return path


def expected_from_sitk(path: Path) -> tuple[np.ndarray, tuple[float, float]]:
    """SimpleITK's pixels taken to medtl's documented 2D convention, and its spacing as (rows, cols).

    SimpleITK applies the rescale and inverts MONOCHROME1 over the stored-value range, but no VOI LUT and no
    colour-to-grey; medtl applies the VOI LUT after the rescale and then inverts MONOCHROME1 over the output
    range of those LUTs. So: undo SimpleITK's inversion, apply the VOI LUT, invert again; luma for colour.
    GDCM gives palette colours in 8 bits where pydicom keeps the 16-bit entries of the palette.
    """
    ds = pydicom.dcmread(path)
    image = sitk.ReadImage(str(path))
    values = sitk.GetArrayFromImage(image)[0].astype(np.float64)
    spacing = (image.GetSpacing()[1], image.GetSpacing()[0])
    if image.GetNumberOfComponentsPerPixel() == 3:
        scale = 256 if ds.PhotometricInterpretation == "PALETTE COLOR" else 1
        return values @ np.array([0.299, 0.587, 0.114]) * scale, spacing
    inverted = ds.PhotometricInterpretation == "MONOCHROME1"
    if inverted:
        stored_range = apply_modality_lut(np.array([0, 2**ds.BitsStored - 1]), ds)
        values = stored_range.sum() - values
    values = apply_voi_lut(values, ds)
    if inverted:
        limits = apply_voi_lut(apply_modality_lut(np.array([0, 2**ds.BitsStored - 1]), ds), ds)
        values = limits.min() + limits.max() - values
    return values, spacing


@pytest.mark.parametrize("name", sorted(FILES))
def test_dicom_file_matches_simpleitk(name):
    path = local_file(name)
    image = read_image(path)
    expected, spacing = expected_from_sitk(path)

    assert image.array.dtype == np.float32 and image.spatial_dims == 2
    np.testing.assert_allclose(image.array, expected, atol=FILES[name], rtol=1e-6)
    np.testing.assert_allclose(image.spacing, spacing, rtol=1e-6)
    np.testing.assert_allclose(image.affine, np.diag([*spacing, 1.0, 1.0]), rtol=1e-6)
    assert image.meta["format"] == "dicom" and image.meta["source"] == str(path)
    header = read_header(path)
    assert header.shape == image.array.shape and header.spacing == image.spacing


def test_monochrome1_is_inverted_so_bright_means_dense():
    path = local_file(CR_MONOCHROME1)
    image = read_image(path)
    stored = pydicom.dcmread(path).pixel_array.astype(np.float64)

    assert pydicom.dcmread(path).PhotometricInterpretation == "MONOCHROME1"
    assert np.corrcoef(image.array.ravel(), stored.ravel())[0, 1] < -0.9
    assert image.meta["modality"] == "CR"
    assert image.meta["patient_id"] == pydicom.dcmread(path).PatientID


def test_rescale_gives_hounsfield_units():
    path = local_file("CT_small.dcm")
    ds = pydicom.dcmread(path)
    hounsfield = ds.pixel_array.astype(np.float32) + float(ds.RescaleIntercept)
    np.testing.assert_array_equal(read_image(path).array, hounsfield)


@pytest.mark.parametrize("name", ["rtdose.dcm", "rtdose_rle.dcm"])
def test_multiframe_with_frame_positions_is_a_canonical_volume(name):
    path = local_file(name)
    image = read_image(path)
    reference = sitk.ReadImage(str(path))
    lps = np.eye(4)
    lps[:3, :3] = np.array(reference.GetDirection()).reshape(3, 3) * np.array(reference.GetSpacing())
    lps[:3, 3] = reference.GetOrigin()
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
    array = sitk.GetArrayFromImage(reference).T.astype(np.float32)
    canonical = nib.as_closest_canonical(nib.Nifti1Image(array, ras))

    assert image.spatial_dims == 3 and nib.aff2axcodes(image.affine) == ("R", "A", "S")
    np.testing.assert_array_equal(image.array, canonical.get_fdata(dtype=np.float32))
    np.testing.assert_allclose(image.affine, canonical.affine, atol=1e-4)
    assert image.spacing == pytest.approx((10.0, 10.0, 5.0))
    assert read_header(path).shape == image.array.shape == (10, 10, 15)


@pytest.mark.parametrize(
    "name, message",
    [
        ("JPEG-lossy.dcm", "cannot decode the pixel data (JPEG Extended"),
        ("examples_ybr_color.dcm", "30 frames without per-frame positions"),
        ("rtplan.dcm", "without an image (SOP class: RT Plan Storage)"),
        ("README.txt", "not a DICOM file"),
    ],
)
def test_unreadable_files_raise_read_error_naming_the_file(name, message):
    path = local_file(name)
    with pytest.raises(ReadError, match=r"^.*" + name.replace(".", r"\.") + ": ") as caught:
        read_image(path)
    assert message in caught.value.reason
    assert caught.value.path == str(path)
