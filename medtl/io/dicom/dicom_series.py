"""DICOM series: the volumes in a folder, one per SeriesInstanceUID.

Only the folder's own files are read (not sub-folders); hidden files, non-DICOM files and DICOM files without
pixels (DICOMDIR, reports) are not part of any series and are passed over. Slices are ordered by position
along the slice normal, never by file name or InstanceNumber, the rescale is applied per slice (values in
modality units, e.g. HU), and every volume is reoriented to closest canonical RAS+ (axis 0 -> R, 1 -> A,
2 -> S), so volumes from any scanner orientation come out in one orientation (see `medtl.io.dicom.dicom_geometry`).
"""
from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset

from medtl.io.dicom.dicom_geometry import SliceGeometry, slice_geometry, stack_volume, stacked_geometry
from medtl.io.dicom.dicom_image import dataset_image, dicom_header
from medtl.io.dicom.dicom_pixels import series_values
from medtl.io.dicom.dicom_tags import frame_count, has_dicom_marker, identity, is_image, open_dataset, text
from medtl.errors import ReadError
from medtl.io.image import ImageData, ImageHeader
from medtl.io.meta import image_meta
from medtl.io.orientation import voxel_spacing

SeriesFiles = list[tuple[Path, Dataset]]


def series_datasets(
    folder: str | Path, with_pixels: bool = False, series_uid: str | None = None
) -> dict[str, SeriesFiles]:
    """Datasets of the DICOM images directly in `folder`, grouped by SeriesInstanceUID. Headers only, unless
    `with_pixels`: then each file is read whole, once, and keeps its pixel data when it belongs to `series_uid`
    (to any series when None), so a folder of many series never holds the pixels of the ones not asked for.

    Example:
        >>> from pathlib import Path
        >>> from pydicom.data import get_testdata_file
        >>> ct5 = Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests/98892001/CT5N"
        >>> [len(files) for files in series_datasets(ct5).values()]
        [5]
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReadError(folder, "not a folder")
    groups: dict[str, SeriesFiles] = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        if not has_dicom_marker(path):
            continue
        ds = open_dataset(path, with_pixels=with_pixels)
        if is_image(ds):
            uid = text(ds, "SeriesInstanceUID") or ""
            if series_uid is not None and uid != series_uid and "PixelData" in ds:
                del ds.PixelData
            groups.setdefault(uid, []).append((path, ds))
    if not groups:
        raise ReadError(folder, "no DICOM images in this folder")
    return dict(sorted(groups.items()))


def is_volume_series(datasets: list[Dataset]) -> bool:
    """True when a series' files form one volume: several files, slices with a position in the patient.

    Example:
        >>> is_volume_series([Dataset()])
        False
    """
    return len(datasets) > 1 and any(slice_geometry(ds) is not None for ds in datasets)


def read_dicom_series(folder: str | Path) -> list[ImageData]:
    """Every volume in a folder of DICOM files, one per SeriesInstanceUID (ordered by uid); a series that does
    not form a volume (one 2D image, X-rays without positions, missing slices) raises `ReadError`.

    Example:
        >>> from pathlib import Path
        >>> from pydicom.data import get_testdata_file
        >>> ct5 = Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests/98892001/CT5N"
        >>> [v.array.shape for v in read_dicom_series(ct5)]
        [(16, 16, 5)]
    """
    return [_read_volume(folder, uid, files) for uid, files in series_datasets(folder, with_pixels=True).items()]


def read_series(folder: str | Path, series_uid: str | None = None) -> ImageData:
    """The volume of one series in a folder: the one with `series_uid`, or the only one.

    Example:
        >>> from pathlib import Path
        >>> from pydicom.data import get_testdata_file
        >>> ct5 = Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests/98892001/CT5N"
        >>> read_series(ct5).meta["format"]
        'dicom-series'
    """
    uid, files = _chosen(folder, series_uid, with_pixels=True)
    return _read_volume(folder, uid, files)


def series_header(folder: str | Path, series_uid: str | None = None) -> ImageHeader:
    """The header of one series in a folder (chosen as in `read_series`), without decoding pixels.

    Example:
        >>> from pathlib import Path
        >>> from pydicom.data import get_testdata_file
        >>> ct5 = Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests/98892001/CT5N"
        >>> series_header(ct5).shape
        (16, 16, 5)
    """
    uid, files = _chosen(folder, series_uid)
    return volume_header(folder, uid, files)


def volume_header(folder: str | Path, series_uid: str, files: SeriesFiles) -> ImageHeader:
    """The header of the volume formed by `files` (one series of `folder`), as `read_series` would shape it.

    Example:
        >>> from pathlib import Path
        >>> from pydicom.data import get_testdata_file
        >>> ct5 = Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests/98892001/CT5N"
        >>> uid, files = next(iter(series_datasets(ct5).items()))
        >>> volume_header(ct5, uid, files).spatial_dims
        3
    """
    if _is_multi_frame_file(folder, series_uid, files):
        return dicom_header(files[0][1], files[0][0])
    shape, affine = stacked_geometry(_slice_geometries(folder, series_uid, files), folder, series_uid)
    return ImageHeader(str(folder), "dicom-series", shape, voxel_spacing(affine), **identity(files[0][1]))


def _chosen(folder: str | Path, series_uid: str | None, with_pixels: bool = False) -> tuple[str, SeriesFiles]:
    groups = series_datasets(folder, with_pixels, series_uid)
    if series_uid is None and len(groups) > 1:
        raise ReadError(folder, f"{len(groups)} series in this folder; choose one with series_uid: {', '.join(groups)}")
    if series_uid is None:
        return next(iter(groups.items()))
    if series_uid not in groups:
        raise ReadError(folder, f"no series {series_uid!r} here; the folder holds: {', '.join(groups)}")
    return series_uid, groups[series_uid]


def _read_volume(folder: str | Path, series_uid: str, files: SeriesFiles) -> ImageData:
    if _is_multi_frame_file(folder, series_uid, files):
        return dataset_image(files[0][1], files[0][0])
    geometries = _slice_geometries(folder, series_uid, files)
    frames = series_values([ds for _, ds in files], [path for path, _ in files])
    array, affine = stack_volume(frames, geometries, folder, series_uid)
    return ImageData(array, affine, voxel_spacing(affine), image_meta(folder, "dicom-series", identity(files[0][1])))


def _is_multi_frame_file(folder: str | Path, series_uid: str, files: SeriesFiles) -> bool:
    """True for a series made of one multi-frame file, False for a series of several files."""
    if len(files) > 1:
        return False
    path, ds = files[0]
    if frame_count(ds) == 1:
        raise ReadError(folder, f"series {series_uid} is one 2D image ({path.name}), not a volume; read that file")
    return True


def _slice_geometries(folder: str | Path, series_uid: str, files: SeriesFiles) -> list[SliceGeometry]:
    geometries = []
    for path, ds in files:
        geometry = slice_geometry(ds)
        if geometry is None or frame_count(ds) > 1:
            problem = (
                "a file lacks ImagePositionPatient, ImageOrientationPatient or PixelSpacing"
                if geometry is None
                else "a multi-frame file among several files"
            )
            raise ReadError(folder, f"series {series_uid}: {problem}, so it cannot be a slice of a volume: {path.name}")
        geometries.append(geometry)
    return geometries
