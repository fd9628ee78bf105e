"""Masks from clinical formats: one segment of a DICOM SEG, or one ROI of an RTSTRUCT, as a boolean array on
the grid of the image it belongs to (`ImageData`: 2D as displayed, 3D canonical RAS+).

A SEG's frames are placed by their own plane positions (PlanePositionSequence, as any enhanced multi-frame,
`medtl.io.dicom.dicom_geometry.frame_geometries`), so SEGs that store only the frames holding the segment land on
the right slices; each foreground pixel goes to the nearest image voxel. Fractional SEGs are thresholded at
half their maximum. An RTSTRUCT's closed planar contours (patient coordinates, mm) are filled on the image
slice they lie in, holes by the even-odd rule (matplotlib's `Path.contains_points`; the polygon fill is the
only part written here). A single-frame SEG on a 2D image is taken as it is, pixel for pixel.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.path import Path as Polygon
from pydicom.dataset import Dataset

from medtl.io.dicom.dicom_geometry import LPS_TO_RAS, frame_geometries
from medtl.io.dicom.dicom_tags import frame_count, functional_item, open_dataset
from medtl.errors import ReadError
from medtl.io.image import ImageData

MASK_MODALITIES = ("SEG", "RTSTRUCT")


def is_dicom_mask(ds: Dataset) -> bool:
    """True for a DICOM SEG or RTSTRUCT dataset.

    Example:
        >>> is_dicom_mask(Dataset())
        False
    """
    return ds.get("Modality") in MASK_MODALITIES


def read_dicom_mask(path: str | Path, image: ImageData, segment: str | int | None = None) -> np.ndarray:
    """The mask of `segment` (a SEG segment number or label, an RTSTRUCT ROI name; None when there is only
    one) on `image`'s grid, as a boolean array of its shape.

    Example:
        >>> mask = read_dicom_mask("seg.dcm", read_image("ct_series"), "Liver")  # doctest: +SKIP
        >>> mask.shape == read_image("ct_series").array.shape  # doctest: +SKIP
        True
    """
    ds = open_dataset(path)
    if ds.get("Modality") == "SEG":
        frames, geometries = segment_frames(ds, path, segment)
        if image.spatial_dims == 2:
            return _flat_mask(frames, image, path)
        return _placed(frames, geometries, image, path)
    if ds.get("Modality") == "RTSTRUCT":
        return _filled_contours(_roi_contours(ds, path, segment), image, path)
    raise ReadError(path, f"not a DICOM SEG or RTSTRUCT (Modality {ds.get('Modality')!r})")


def segment_frames(ds: Dataset, path: str | Path, segment: str | int | None) -> tuple[np.ndarray, list]:
    """The boolean frames of one segment of a SEG (frames, rows, cols) and their plane geometries (None each
    when the SEG has no positions).

    Example:
        >>> from pydicom.data import get_testdata_file
        >>> frames, _ = segment_frames(open_dataset(get_testdata_file("liver.dcm")), "liver.dcm", "Liver")
        >>> frames.shape
        (3, 512, 512)
    """
    number = _segment_number(ds, path, segment)
    pixels = ds.pixel_array.reshape(frame_count(ds), int(ds.Rows), int(ds.Columns))
    if ds.get("SegmentationType") == "FRACTIONAL":
        foreground = pixels >= int(ds.get("MaximumFractionalValue") or 255) / 2
    else:
        foreground = pixels > 0
    numbers = [_frame_segment(ds, i, path) for i in range(frame_count(ds))]
    chosen = [i for i, n in enumerate(numbers) if n == number]
    geometries = frame_geometries(ds) or [None] * frame_count(ds)
    return foreground[chosen], [geometries[i] for i in chosen]


def _segment_number(ds: Dataset, path: str | Path, segment: str | int | None) -> int:
    segments = {int(item.SegmentNumber): str(item.get("SegmentLabel", "")) for item in ds.get("SegmentSequence", [])}
    listed = ", ".join(f"{n} {label!r}" for n, label in segments.items())
    if segment is None or str(segment).strip() == "":
        if len(segments) == 1:
            return next(iter(segments))
        raise ReadError(path, f"{len(segments)} segments ({listed}); choose one by number or label")
    text = str(segment).strip()
    for number, label in segments.items():
        if text == str(number) or text.lower() == label.lower():
            return number
    raise ReadError(path, f"no segment {text!r}; the SEG holds {listed}")


def _frame_segment(ds: Dataset, frame: int, path: str | Path) -> int:
    item = functional_item(ds, frame, "SegmentIdentificationSequence")
    if item is None:
        raise ReadError(path, f"frame {frame + 1} names no segment (SegmentIdentificationSequence)")
    return int(item.ReferencedSegmentNumber)


def _flat_mask(frames: np.ndarray, image: ImageData, path: str | Path) -> np.ndarray:
    if len(frames) != 1 or frames.shape[1:] != image.array.shape:
        sizes = f"{len(frames)} frame(s) of {frames.shape[1:]}"
        raise ReadError(path, f"{sizes} cannot mask a 2D image of {image.array.shape}")
    return frames[0]


def _placed(frames: np.ndarray, geometries: list, image: ImageData, path: str | Path) -> np.ndarray:
    """Each foreground pixel of each frame, at the image voxel nearest to its patient position."""
    if any(g is None for g in geometries):
        raise ReadError(path, "the SEG's frames have no plane positions, so they cannot be placed on a volume")
    mask = np.zeros(image.array.shape, bool)
    to_voxel = np.linalg.inv(image.affine) @ LPS_TO_RAS
    for frame, g in zip(frames, geometries):
        rows, cols = np.nonzero(frame)
        lps = (np.asarray(g.position)[:, None] + np.outer(g.orientation[:3], cols * g.spacing[1])
               + np.outer(g.orientation[3:], rows * g.spacing[0]))
        _set_voxels(mask, (to_voxel @ np.vstack([lps, np.ones(len(rows))]))[:3])
    if frames.any() and not mask.any():
        raise ReadError(path, "no segment pixel falls inside the image: the SEG belongs to another image")
    return mask


def _set_voxels(mask: np.ndarray, voxels: np.ndarray) -> None:
    index = np.rint(voxels).astype(int)
    inside = np.all((index >= 0) & (index < np.array(mask.shape)[:, None]), axis=0)
    mask[tuple(index[:, inside])] = True


def _roi_contours(ds: Dataset, path: str | Path, roi: str | int | None) -> list[np.ndarray]:
    """The closed planar contours (points x 3, LPS mm) of one ROI, chosen by name (or number)."""
    names = {int(item.ROINumber): str(item.get("ROIName", "")) for item in ds.get("StructureSetROISequence", [])}
    listed = ", ".join(repr(name) for name in names.values())
    if roi is None or str(roi).strip() == "":
        if len(names) != 1:
            raise ReadError(path, f"{len(names)} ROIs ({listed}); choose one by name")
        number = next(iter(names))
    else:
        matches = [n for n, name in names.items() if str(roi).strip().lower() in (name.lower(), str(n))]
        if not matches:
            raise ReadError(path, f"no ROI {str(roi)!r}; the structure set holds {listed}")
        number = matches[0]
    for item in ds.get("ROIContourSequence", []):
        if int(item.ReferencedROINumber) == number:
            return [np.asarray(c.ContourData, float).reshape(-1, 3) for c in item.get("ContourSequence", [])
                    if c.get("ContourGeometricType", "CLOSED_PLANAR") == "CLOSED_PLANAR"]
    raise ReadError(path, f"ROI {names[number]!r} has no contours")


def _filled_contours(contours: list[np.ndarray], image: ImageData, path: str | Path) -> np.ndarray:
    if image.spatial_dims != 3:
        raise ReadError(path, "an RTSTRUCT outlines a volume; its image is 2D")
    mask = np.zeros(image.array.shape, bool)
    to_voxel = np.linalg.inv(image.affine) @ LPS_TO_RAS
    for points in contours:
        voxels = (to_voxel @ np.hstack([points, np.ones((len(points), 1))]).T)[:3]
        axis = int(np.argmin(np.ptp(voxels, axis=1)))  # the contour is flat along the slice axis
        index = int(np.rint(voxels[axis].mean()))
        if not 0 <= index < mask.shape[axis]:
            continue
        plane = [a for a in range(3) if a != axis]
        grid = np.stack(np.meshgrid(*(np.arange(mask.shape[a]) for a in plane), indexing="ij"), axis=-1)
        inside = Polygon(voxels[plane].T).contains_points(grid.reshape(-1, 2)).reshape(grid.shape[:2])
        view = np.moveaxis(mask, axis, 0)[index]
        view ^= inside  # even-odd: a contour inside another is a hole
    if contours and not mask.any():
        raise ReadError(path, "no contour falls inside the image: the RTSTRUCT belongs to another image")
    return mask
