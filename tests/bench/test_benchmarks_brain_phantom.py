"""The independent brain cohort: half the patients with one bright white-matter lesion, LPS affines, both layouts."""
from __future__ import annotations

import csv
import json

import nibabel as nib
import numpy as np
from scipy.ndimage import binary_dilation

from benchmarks.brain_phantom import brain_cohort, draw_patient

SHAPE = (24, 24, 16)


def _truth(root) -> list[dict]:
    with open(root / "truth.csv", newline="") as table:
        return list(csv.DictReader(table))


def test_half_the_patients_carry_one_bright_lesion_inside_the_brain(tmp_path):
    root = brain_cohort(tmp_path / "b", patients=6, seed=2, shape=SHAPE)
    rows = _truth(root)
    assert [row["label"] for row in rows].count("lesion") == 3
    assert {row["label"] for row in rows} == {"normal", "lesion"}
    for p, row in enumerate(rows):
        image = nib.load(root / row["image"])
        mask = np.asarray(nib.load(root / row["mask"]).dataobj)
        assert image.get_data_dtype() == np.int16 and mask.dtype == np.uint8
        assert image.shape == mask.shape == SHAPE
        assert image.affine[0, 0] < 0 and image.affine[1, 1] < 0 and image.affine[2, 2] > 0
        assert int(image.header["qform_code"]) == int(image.header["sform_code"]) == 1
        assert int(row["lesion_voxels"]) == int(mask.sum())
        assert mask.any() == (row["label"] == "lesion")
        drawn = draw_patient(2, p, row["label"] == "lesion", SHAPE)
        data = np.asarray(image.dataobj)
        np.testing.assert_array_equal(data, drawn.image)
        if mask.any():
            lesion = mask.astype(bool)
            assert drawn.brain[lesion].all()
            ring = binary_dilation(lesion, iterations=2) & drawn.white
            assert ring.any() and data[lesion].mean() > data[ring].mean()


def test_the_same_seed_draws_the_same_cohort_and_another_seed_another():
    first, again = (draw_patient(5, 1, True, SHAPE) for _ in range(2))
    other = draw_patient(6, 1, True, SHAPE)
    np.testing.assert_array_equal(first.image, again.image)
    np.testing.assert_array_equal(first.mask, again.mask)
    np.testing.assert_array_equal(first.affine, again.affine)
    assert not np.array_equal(first.image, other.image)


def test_both_layouts_write_the_expected_files(tmp_path):
    folders = brain_cohort(tmp_path / "f", patients=4, seed=1, shape=SHAPE, layout="folders")
    for row in _truth(folders):
        assert row["image"] == f"images/{row['label']}/{row['patient_id']}.nii.gz"
        assert row["mask"] == f"masks/{row['patient_id']}.nii.gz"
        assert (folders / row["image"]).is_file() and (folders / row["mask"]).is_file()
    assert len(list((folders / "masks").glob("*.nii.gz"))) == 4

    msd = brain_cohort(tmp_path / "m", patients=4, seed=1, shape=SHAPE, layout="msd")
    dataset = json.loads((msd / "dataset.json").read_text())
    assert dataset["labels"] == {"0": "background", "1": "lesion"} and dataset["modality"] == {"0": "MRI"}
    assert dataset["numTraining"] == len(dataset["training"]) == 4
    assert sorted(p.name for p in (msd / "imagesTr").iterdir()) == [f"sub-00{p}.nii.gz" for p in range(1, 5)]
    for entry in dataset["training"]:
        assert (msd / entry["image"]).is_file() and (msd / entry["label"]).is_file()
    listed = {entry["image"] for entry in dataset["training"]}
    assert listed == {f"./imagesTr/{p.name}" for p in (msd / "imagesTr").iterdir()}
    for a, b in zip(_truth(folders), _truth(msd)):  # the layout changes the files, not the patients
        assert a["label"] == b["label"]
        np.testing.assert_array_equal(np.asarray(nib.load(folders / a["image"]).dataobj),
                                      np.asarray(nib.load(msd / b["image"]).dataobj))
