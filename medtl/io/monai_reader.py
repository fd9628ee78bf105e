"""medtl's readers as a MONAI `ImageReader`, so a MONAI pipeline of one's own reads images as medtl does
(MONOCHROME1 inverted, VOI window applied, series sorted by position, volumes in canonical RAS+).

Example:
    >>> from monai.transforms import LoadImage
    >>> from pydicom.data import get_testdata_file
    >>> LoadImage(reader=MedtlReader(), image_only=True)(get_testdata_file("CT_small.dcm")).shape
    torch.Size([128, 128])
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from monai.data.image_reader import ImageReader
from monai.utils import MetaKeys, ensure_tuple

from medtl.io.image import ImageData
from medtl.io.reader import read_image


class MedtlReader(ImageReader):
    """Reads every path `medtl.io.read_image` reads (DICOM files and series folders, NIfTI, PNG, JPEG).

    Several paths give one array with the images stacked on a first channel axis. `meta` holds medtl's
    identity keys (source, format, modality, patient_id, study_uid, series_uid) next to MONAI's affine and
    spatial shape; `series_uid` chooses the series of a folder holding several.

    Example:
        >>> from monai.transforms import LoadImaged
        >>> from pydicom.data import get_testdata_file
        >>> LoadImaged("image", reader=MedtlReader())({"image": get_testdata_file("MR_small.dcm")})["image"].shape
        torch.Size([64, 64])
    """

    def __init__(self, series_uid: str | None = None):
        super().__init__()
        self.series_uid = series_uid

    def verify_suffix(self, filename: Sequence[str | Path] | str | Path) -> bool:
        """Any path: medtl chooses its reader from the path itself (`medtl.io.detect_format`)."""
        return True

    def read(self, data: Sequence[str | Path] | str | Path, **kwargs: Any) -> ImageData | list[ImageData]:
        images = [read_image(path, series_uid=self.series_uid) for path in ensure_tuple(data)]
        return images[0] if len(images) == 1 else images

    def get_data(self, img: ImageData | list[ImageData]) -> tuple[np.ndarray, dict[str, Any]]:
        images = list(ensure_tuple(img))
        first = images[0]
        array = first.array if len(images) == 1 else np.stack([image.array for image in images])
        meta = {
            **first.meta,
            "filename_or_obj": first.meta.get("source"),
            MetaKeys.AFFINE: first.affine.copy(),
            MetaKeys.ORIGINAL_AFFINE: first.affine.copy(),
            MetaKeys.SPATIAL_SHAPE: np.asarray(first.array.shape),
            MetaKeys.ORIGINAL_CHANNEL_DIM: float("nan") if len(images) == 1 else 0,
        }
        return array, {key: value for key, value in meta.items() if value is not None}
