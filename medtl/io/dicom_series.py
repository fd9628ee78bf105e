"""DICOM series: the volumes in a folder, one per SeriesInstanceUID.

Only the folder's own files are read (not sub-folders); hidden files, non-DICOM files and DICOM files without
pixels (DICOMDIR, reports) are not part of any series and are passed over. Slices are ordered by position
along the slice normal, never by file name or InstanceNumber, the rescale is applied per slice (values in
modality units, e.g. HU), and every volume is reoriented to closest canonical RAS+ (axis 0 -> R, 1 -> A,
2 -> S), so volumes from any scanner orientation come out in one orientation (see `medtl.io.dicom_geometry`).
"""
from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset

from medtl.io.dicom_geometry import SliceGeometry, slice_geometry, stack_volume, stacked_geometry
from medtl.io.dicom_image import dicom_header, read_dicom_file
from medtl.io.dicom_pixels import decoded_pixels, modality_values
from medtl.io.dicom_tags import frame_count, has_dicom_marker, identity, is_image, open_dataset, read_dataset, text
from medtl.io.image import ImageData, ImageHeader, ReadError
from medtl.io.meta import image_meta
from medtl.io.orientation import voxel_spacing

SeriesFiles = list[tuple[Path, Dataset]]


def series_datasets(folder: str | Path) -> dict[str, SeriesFiles]:
    """Headers (no pixels) of the DICOM images directly in `folder`, grouped by SeriesInstanceUID.

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
        ds = open_dataset(path, with_pixels=False)
        if is_image(ds):
            groups.setdefault(text(ds, "SeriesInstanceUID") or "", []).append((path, ds))
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
    return [_read_volume(folder, uid, files) for uid, files in series_datasets(folder).items()]


def read_series(folder: str | Path, series_uid: str | None = None) -> ImageData:
    """The volume of one series in a folder: the one with `series_uid`, or the only one.

    Example:
        >>> from pathlib import Path
        >>> from pydicom.data import get_testdata_file
        >>> ct5 = Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests/98892001/CT5N"
        >>> read_series(ct5).meta["format"]
        'dicom-series'
    """
    uid, files = _chosen(folder, series_uid)
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
    multi_frame = _multi_frame_file(folder, series_uid, files)
    if multi_frame is not None:
        return dicom_header(files[0][1], multi_frame)
    shape, affine = stacked_geometry(_slice_geometries(folder, series_uid, files), folder, series_uid)
    return ImageHeader(str(folder), "dicom-series", shape, voxel_spacing(affine), **identity(files[0][1]))


def _chosen(folder: str | Path, series_uid: str | None) -> tuple[str, SeriesFiles]:
    groups = series_datasets(folder)
    if series_uid is None and len(groups) > 1:
        raise ReadError(folder, f"{len(groups)} series in this folder; choose one with series_uid: {', '.join(groups)}")
    if series_uid is None:
        return next(iter(groups.items()))
    if series_uid not in groups:
        raise ReadError(folder, f"no series {series_uid!r} here; the folder holds: {', '.join(groups)}")
    return series_uid, groups[series_uid]


def _read_volume(folder: str | Path, series_uid: str, files: SeriesFiles) -> ImageData:
    multi_frame = _multi_frame_file(folder, series_uid, files)
    if multi_frame is not None:
        return read_dicom_file(multi_frame)
    geometries = _slice_geometries(folder, series_uid, files)
    frames = []
    for path, _ in files:
        ds = read_dataset(path)
        frames.append(modality_values(decoded_pixels(ds, path), ds))
    array, affine = stack_volume(frames, geometries, folder, series_uid)
    return ImageData(array, affine, voxel_spacing(affine), image_meta(folder, "dicom-series", identity(files[0][1])))


def _multi_frame_file(folder: str | Path, series_uid: str, files: SeriesFiles) -> Path | None:
    """The file of a series made of one multi-frame file; None for a series of several files."""
    if len(files) > 1:
        return None
    path, ds = files[0]
    if frame_count(ds) == 1:
        raise ReadError(folder, f"series {series_uid} is one 2D image ({path.name}), not a volume; read that file")
    return path


def _slice_geometries(folder: str | Path, series_uid: str, files: SeriesFiles) -> list[SliceGeometry]:
    geometries = []
    for path, ds in files:
        geometry = slice_geometry(ds)
        if geometry is None or frame_count(ds) > 1:
            problem = (
                "lacks ImagePositionPatient, ImageOrientationPatient or PixelSpacing"
                if geometry is None
                else "is a multi-frame file among several files"
            )
            raise ReadError(folder, f"series {series_uid}: {path.name} {problem}, so it cannot be a slice of a volume")
        geometries.append(geometry)
    return geometries
