"""The report of a fake run folder: patients, AUC and pictures are there; names and (with a key) ids are not."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from medtl.explain import save_overlay
from medtl.io.image import ImageData
from medtl.report import pseudonym, write_report

PATIENTS = {"PAT-001": "nodule", "PAT-002": "normal", "PAT-003": "nodule"}
CASES = [("PAT-001_a", "PAT-001", 0.9), ("PAT-001_b", "PAT-001", 0.7), ("PAT-002_a", "PAT-002", 0.2),
         ("PAT-003_a", "PAT-003", 0.4), ("PAT-003_b", "PAT-003", 0.6)]
WITH_OVERLAY = ("PAT-001_a", "PAT-003_b")
DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def write_dicom(path, patient_id: str) -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.SOPClassUID, ds.SOPInstanceUID = SecondaryCaptureImageStorage, generate_uid()
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Doe^Jane", patient_id, "19700101"
    ds.Modality, ds.Rows, ds.Columns = "DX", 8, 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = np.arange(64, dtype=np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "runs" / "demo"
    (run / "explain").mkdir(parents=True)
    images = []
    for case_id, patient_id, _ in CASES:
        write_dicom(tmp_path / f"{case_id}.dcm", patient_id)
        images.append(str(tmp_path / f"{case_id}.dcm"))
    pd.DataFrame({"case_id": [c[0] for c in CASES], "patient_id": [c[1] for c in CASES], "image": images,
                  "label": [PATIENTS[c[1]] for c in CASES]}).to_csv(run / "cases.csv", index=False)
    pd.DataFrame({
        "case_id": [c[0] for c in CASES], "patient_id": [c[1] for c in CASES],
        "fold": [int(c[1][-1]) - 1 for c in CASES], "label": [PATIENTS[c[1]] for c in CASES],
        "y_true": [int(PATIENTS[c[1]] == "nodule") for c in CASES],
        "p_normal": [1 - c[2] for c in CASES], "p_nodule": [c[2] for c in CASES],
    }).to_csv(run / "oof_predictions.csv", index=False)
    summary = {"classes": ["normal", "nodule"], "positive": "nodule",
               "pooled": {"patient": {"auc": 0.875, "bootstrap_ci": [0.512, 1.0]}}}
    (run / "cv_summary.json").write_text(json.dumps(summary))
    saliency = {"method": "gradcam", "n_cases": 2, "pointing_game_hit_rate": 0.5, "randomization_spearman": 0.1234}
    (run / "explain" / "summary.json").write_text(json.dumps(saliency))
    image = ImageData(np.random.default_rng(0).random((32, 32), dtype=np.float32), np.eye(4), (1.0, 1.0))
    for case_id in WITH_OVERLAY:
        save_overlay(np.random.default_rng(1).random((8, 8)), image, run / "explain" / f"{case_id}.png")
    return run


def report_texts(run) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in (run / "reports").iterdir()}


def test_report_shows_patients_auc_and_images_but_no_names(run_dir):
    index = write_report(run_dir)
    texts = report_texts(run_dir)
    assert sorted(texts) == ["PAT-001.html", "PAT-002.html", "PAT-003.html", "index.html", "patients.csv",
                             "patients.json"]
    html = index.read_text()
    assert all(pid in html for pid in PATIENTS)
    assert "0.875" in html and "0.512" in html and "1.000" in html
    assert "Saliency checks" in html and "0.123" in html
    assert len(DATA_URI.findall(html)) == 3  # ROC, reliability, confusion matrix
    assert len(DATA_URI.findall(texts["PAT-001.html"])) == 1 and "PAT-001_b" in texts["PAT-001.html"]
    assert not DATA_URI.findall(texts["PAT-002.html"]) and "No saliency map" in texts["PAT-002.html"]
    patients = pd.read_csv(run_dir / "reports" / "patients.csv")
    assert patients.set_index("patient_id").loc["PAT-001", "probability"] == pytest.approx(0.8)
    for name, text in texts.items():
        assert "Doe" not in DATA_URI.sub("", text), name  # pictures are pixels; their base64 is not text
        assert "1970" not in DATA_URI.sub("", text), name


def test_pseudonymised_report_has_no_original_id(run_dir):
    write_report(run_dir)  # an earlier plain report must not survive the pseudonymised one
    write_report(run_dir, pseudonymize_key="site-secret")
    texts = report_texts(run_dir)
    hashed = pseudonym("PAT-001", "site-secret")
    assert f"{hashed}.html" in texts and hashed in texts["index.html"] and hashed in texts["patients.json"]
    assert len(texts) == 3 + len(PATIENTS)
    for name, text in texts.items():
        assert "PAT-" not in name and "PAT-" not in text, name
    assert len(DATA_URI.findall(texts[f"{hashed}.html"])) == 1  # overlays are still found by the original case id
