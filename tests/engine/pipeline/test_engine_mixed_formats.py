"""Cases read from DICOM (which carry a series uid) and from PNG files batch together."""
from __future__ import annotations

import numpy as np
import torch
from monai.data import list_data_collate
from PIL import Image

from medtl.data import scan_folder
from medtl.engine.pipeline.datasets import case_items
from medtl.engine.pipeline.transforms import preprocess
from medtl.synth import make_xray


def test_dicom_and_png_cases_share_a_batch(tmp_path):
    root = make_xray(tmp_path / "cxr", patients=4, size=32, images_per_patient=(1, 1))
    for label in ("normal", "nodule"):
        png = root / "images" / label / "P999" / "extra.png"
        png.parent.mkdir(parents=True)
        Image.fromarray(np.full((32, 32), 100, dtype=np.uint8)).save(png)
    table = scan_folder(root / "images", layout="class-folders")
    items = case_items(table, ["normal", "nodule"], with_mask=False)
    assert any("series" in item for item in items) and any("series" not in item for item in items)
    loaded = [preprocess((16, 16), "minmax", with_mask=False)(item) for item in items]
    assert all("series" not in item for item in loaded)
    batch = list_data_collate(loaded)
    assert isinstance(batch["image"], torch.Tensor) and batch["image"].shape == (len(items), 1, 16, 16)
