"""A map made on a padded or cropped input (`transforms.fit: pad`) lands on the voxels it was computed from, on a
real anisotropic, left-right flipped NIfTI file (nibabel's anatomical.nii)."""
from __future__ import annotations

from pathlib import Path

import nibabel
import numpy as np
import pytest
from scipy.ndimage import binary_erosion

from medtl.engine.pipeline.transforms import preprocess
from medtl.explain.geometry import InputGrid, resize_to_image
from medtl.io import read_image

ANATOMICAL = Path(nibabel.__file__).parent / "tests" / "data" / "anatomical.nii"  # 33x41x25 voxels of 2 mm, LAS


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * float((a & b).sum()) / float(a.sum() + b.sum())


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.mark.parametrize("input_size", [(16, 16, 16), (40, 48, 24), (15, 33, 14)])  # cropped, padded, both
def test_the_input_itself_maps_back_onto_the_image(input_size):
    image = read_image(str(ANATOMICAL))
    spacing = (3.0, 3.0, 3.0)
    model_input = np.asarray(preprocess(input_size, "minmax", False, spacing, "pad")({"image": str(ANATOMICAL)})["image"])[0]
    grid = InputGrid(input_size, spacing, "pad")
    back = resize_to_image(model_input, image, grid)
    assert back.shape == image.array.shape
    seen = binary_erosion(back > 0.05, iterations=2)  # inside the view the input kept (a crop leaves the rest 0)
    original = (image.array - image.array.min()) / np.ptp(image.array)
    assert _correlation(back[seen], original[seen]) > 0.85  # 0.887 when the input is the resampled grid itself
    resized_back = resize_to_image(model_input, image)  # as if the input had been resized: misplaced
    assert _correlation(resized_back[seen], original[seen]) < _correlation(back[seen], original[seen]) - 0.2


def test_a_resampled_grid_has_the_shape_of_the_resampled_image():
    image = read_image(str(ANATOMICAL))
    resampled = np.asarray(preprocess((8, 8, 8), "none", False, (3.0, 3.0, 3.0), "pad").transforms[0](
        {"image": str(ANATOMICAL)})["image"])
    assert InputGrid((8, 8, 8), (3.0, 3.0, 3.0), "pad").resampled_shape(image) == resampled.shape[1:]


def test_a_lesion_probability_map_goes_back_to_the_mask_grid(tmp_path):
    """The path a segmentation's held-out prediction takes to be scored against its mask file
    (`medtl.engine.tasks.segmentation.score_cases`): probabilities back to the mask's grid, then > 0.5."""
    source = nibabel.load(str(ANATOMICAL))
    grid = np.indices(source.shape)
    blob = sum((g - c) ** 2 for g, c in zip(grid, (9, 13, 8))) <= 5**2
    mask_path = tmp_path / "mask.nii.gz"
    nibabel.save(nibabel.Nifti1Image(blob.astype(np.uint8), source.affine), str(mask_path))
    truth = read_image(str(mask_path))
    spacing, size = (3.0, 3.0, 3.0), (40, 20, 24)  # padded on two axes, cropped on one
    on_input = np.asarray(preprocess(size, "none", True, spacing, "pad")(
        {"image": str(ANATOMICAL), "mask": str(mask_path)})["mask"])[0]
    back = resize_to_image(on_input, truth, InputGrid(size, spacing, "pad")) > 0.5

    resampled = InputGrid(size, spacing, "pad").resampled_shape(truth)  # the same trip without padding or cropping
    unpadded = np.asarray(preprocess(resampled, "none", True, spacing, "pad")(
        {"image": str(ANATOMICAL), "mask": str(mask_path)})["mask"])[0]
    baseline = dice(resize_to_image(unpadded, truth) > 0.5, truth.array > 0)  # 2 mm to 3 mm and back
    assert dice(back, truth.array > 0) == pytest.approx(baseline, abs=0.02) and baseline > 0.75
    assert dice(resize_to_image(on_input, truth) > 0.5, truth.array > 0) < baseline - 0.3  # as if resized
