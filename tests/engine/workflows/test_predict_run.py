"""`medtl.run_predict` with a `medtl train` run on new folders: ids, predictions, patient aggregation, report, privacy."""
from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pydicom
import pytest

import medtl
from medtl.config import ExperimentConfig
from medtl.data.layouts.layout_unlabelled import scan_new_data
from medtl.engine.workflows.train_run import run_train
from medtl.report import pseudonym
from medtl.synth import make_xray

DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")
IDS = {"case_id": str, "patient_id": str}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A train run (max aggregation) and a new unlabelled folder: flat DICOMs of other patients plus a patient
    folder of DICOMs without PatientID."""
    root = tmp_path_factory.mktemp("predict")
    data = make_xray(root / "train", patients=6, size=32, seed=1, fmt="png")
    cfg = ExperimentConfig.from_dict({
        "data": {"root": str(data / "images"), "layout": "class-folders"},
        "model": {"backbone": "resnet18", "weights": "none"}, "transforms": {"input_size": [32, 32]},
        "train": {"epochs": 1, "batch_size": 8}, "cv": {"aggregate": "max"},
        "explain": {"cases": 2, "target_layer": "layer3"},
    })
    clf = run_train(cfg, root / "run", progress=False)
    dicoms = make_xray(root / "dicom_src", patients=3, size=32, seed=9, fmt="dicom")
    new = root / "new"
    (new / "walk-in").mkdir(parents=True)
    for path in sorted((dicoms / "images").rglob("*.dcm")):
        shutil.copy(path, new / path.name)
    for path in sorted((make_xray(root / "other", patients=2, size=32, seed=11) / "images").rglob("*.dcm"))[:2]:
        ds = pydicom.dcmread(path)
        del ds.PatientID  # an export without ids: the patient folder names the patient
        ds.save_as(new / "walk-in" / path.name)
    names = {str(pydicom.dcmread(p).PatientName) for p in new.rglob("*.dcm")}
    result = medtl.run_predict(root / "run", new, progress=False)
    return {"root": root, "run": root / "run", "new": new, "clf": clf, "result": result, "names": names,
            "labelled": data}


def test_unlabelled_folder_takes_patient_ids_from_dicom_then_folders(trained):
    table = scan_new_data(trained["new"])
    by_source = table.df.groupby("patient_id_source")["patient_id"].agg(set).to_dict()
    dicom_ids = {str(pydicom.dcmread(p).PatientID) for p in trained["new"].glob("*.dcm")}  # top level only
    assert by_source == {"dicom": dicom_ids, "folder": {"walk-in"}}
    assert table.classes == [] and table.df["label"].isna().all()


def test_default_output_folder_holds_every_documented_file(trained):
    out = trained["result"].out
    assert out == trained["run"] / "predict-new"
    for name in ("cases.csv", "predictions.csv", "predict_summary.json", "reports/index.html",
                 "reports/patients.csv", "reports/patients.json", "explain/summary.json"):
        assert (out / name).is_file(), name
    pred = pd.read_csv(out / "predictions.csv", dtype=IDS)
    assert list(pred.columns) == ["case_id", "patient_id", "p_normal", "p_nodule"]
    top = pred.sort_values("p_nodule", ascending=False)["case_id"].head(2)
    assert sorted(p.name for p in (out / "explain").glob("*.png")) == sorted(f"{c}.png" for c in top)
    assert sorted(p.name for p in (out / "explain").glob("*.nii.gz")) == sorted(f"{c}.nii.gz" for c in top)


def test_predictions_match_the_trained_model_called_directly(trained):
    expected = trained["clf"].predict_proba(scan_new_data(trained["new"])).set_index("case_id")
    got = trained["result"].predictions.set_index("case_id")
    assert sorted(got.index) == sorted(expected.index)
    for column in ("p_normal", "p_nodule"):
        np.testing.assert_allclose(got[column], expected.loc[got.index, column], atol=1e-5)


def test_patients_use_the_models_own_aggregation_and_threshold(trained):
    out = trained["result"].out
    pred = pd.read_csv(out / "predictions.csv", dtype=IDS)
    patients = pd.read_csv(out / "reports" / "patients.csv", dtype=IDS).set_index("patient_id")
    by_max = pred.groupby("patient_id")["p_nodule"].max()  # the run's cv.aggregate is max
    assert list(patients.columns) == ["n_images", "probability", "prediction"]
    np.testing.assert_allclose(patients.loc[by_max.index, "probability"], by_max, atol=1e-9)
    assert (patients["prediction"] == np.where(patients["probability"] >= 0.5, "nodule", "normal")).all()
    assert patients["n_images"].to_dict() == pred["patient_id"].value_counts().to_dict()
    summary = json.loads((out / "predict_summary.json").read_text())
    assert summary["threshold"] == 0.5 and summary["aggregate"] == "max" and summary["labelled"] is False


def test_report_holds_every_patient_with_overlays_and_no_metrics(trained):
    result = trained["result"]
    index = result.report.read_text()
    for patient in result.patients["patient_id"]:
        assert f"href='{patient}.html'" in index
        assert (result.report.parent / f"{patient}.html").is_file()
    assert "AUC" not in index and "<th>label</th>" not in index and "Figures" not in index
    pages = " ".join(p.read_text() for p in result.report.parent.glob("*.html") if p.name != "index.html")
    assert len(DATA_URI.findall(pages)) == 2  # the two explained cases


def test_no_patient_name_from_the_source_dicoms_is_written(trained):
    assert trained["names"]
    for path in trained["result"].out.rglob("*"):
        if path.is_file():
            content = DATA_URI.sub("", path.read_bytes().decode("latin-1"))
            for name in trained["names"]:
                assert name not in content and name.split("^")[-1] not in content, (path, name)


def test_existing_output_is_kept_without_overwrite(trained):
    out = trained["result"].out
    before = (out / "predictions.csv").read_text()
    with pytest.raises(FileExistsError, match="--overwrite"):
        medtl.run_predict(trained["run"], trained["new"], progress=False)
    assert (out / "predictions.csv").read_text() == before
    with pytest.raises(ValueError, match="holds the model"):
        medtl.run_predict(trained["run"], trained["new"], out=trained["run"], overwrite=True, progress=False)
    assert (trained["run"] / "model.safetensors").is_file()


def test_model_file_path_and_overwrite_give_the_same_predictions(trained):
    again = medtl.run_predict(trained["run"] / "model.safetensors", trained["new"], out=trained["result"].out,
                          overwrite=True, cases=0, progress=False)
    pd.testing.assert_frame_equal(again.predictions, trained["result"].predictions)
    assert not (again.out / "explain").exists()


def test_labelled_manifest_shows_auc_and_pseudonyms(trained):
    manifest = trained["labelled"] / "cases.csv"
    result = medtl.run_predict(trained["run"], manifest, out=trained["root"] / "labelled", cases=0,
                           pseudonymize_key="site-key", progress=False)
    assert {"label", "y_true"} <= set(result.predictions.columns)
    summary = json.loads((result.out / "predict_summary.json").read_text())
    assert summary["labelled"] is True and 0.0 <= summary["patient_auc"] <= 1.0
    index = result.report.read_text()
    assert f"{summary['patient_auc']:.3f}" in index and "<th>label</th>" in index
    originals = set(result.predictions["patient_id"])
    assert set(result.patients["patient_id"]) == {pseudonym(p, "site-key") for p in originals}
    for page in result.report.parent.iterdir():
        assert not any(p in page.read_text() for p in originals), page.name


def test_manifest_without_label_column_predicts_without_metrics(trained):
    manifest = trained["root"] / "unlabelled.csv"
    cases = pd.read_csv(trained["labelled"] / "cases.csv", dtype=str)
    cases["path"] = [str(trained["labelled"] / p) for p in cases["path"]]
    cases[["path", "patient_id"]].head(4).to_csv(manifest, index=False)
    result = medtl.run_predict(trained["run"], manifest, cases=0, progress=False)
    assert result.out == trained["run"] / "predict-unlabelled"
    assert list(result.predictions.columns) == ["case_id", "patient_id", "p_normal", "p_nodule"]
    assert set(result.patients["patient_id"]) == set(cases["patient_id"].head(4))
    assert "AUC" not in result.report.read_text()


def test_weights_that_do_not_fit_their_description_are_refused_before_writing(trained, tmp_path):
    for name in ("config.yaml", "model.safetensors"):
        shutil.copy(trained["run"] / name, tmp_path / name)
    (tmp_path / "model.json").write_text(json.dumps({"backbone": "resnet18", "classes": ["a", "b", "c"]}))
    with pytest.raises(ValueError, match="model.safetensors: does not fit a resnet18 with 3 classes"):
        medtl.run_predict(tmp_path, trained["new"], progress=False)
    assert not (tmp_path / "predict-new").exists()
