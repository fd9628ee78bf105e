"""Readers for medical images: DICOM (files, series, multi-frame), NIfTI, PNG and JPEG.

Every reader returns `ImageData` (float32 pixels, voxel->world affine, spacing, identity meta); 2D images are
(rows, cols) as displayed, 3D volumes are in closest canonical RAS+ voxel order.

Example:
    >>> from pydicom.data import get_testdata_file
    >>> read_image(get_testdata_file("CT_small.dcm")).meta["format"]
    'dicom'
"""
from medtl.io.dicom.dicom_series import read_dicom_series
from medtl.io.file_inspection import FileInspection, inspect_file
from medtl.errors import ReadError
from medtl.io.image import ImageData, ImageHeader, Problem
from medtl.io.orientation import canonical_geometry, to_canonical
from medtl.io.reader import detect_format, read_header, read_image
from medtl.io.scan import scan_files

__all__ = [
    "FileInspection",
    "ImageData",
    "ImageHeader",
    "Problem",
    "ReadError",
    "canonical_geometry",
    "detect_format",
    "inspect_file",
    "read_dicom_series",
    "read_header",
    "read_image",
    "scan_files",
    "to_canonical",
]
