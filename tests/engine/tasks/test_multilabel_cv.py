"""Multi-label classification: a manifest with one 0/1 column per finding (uncertain and blank as missing)
cross-validates into per-finding and macro patient-level AUCs with CIs, per-finding thresholds and a per-patient
report listing every finding."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from medtl.config import ExperimentConfig
from medtl.engine.workflows.cohort import load_table
from medtl.engine.workflows.cv import run_cv
from medtl.engine.tasks.multilabel import MaskedBCELoss
from medtl.synth import make_xray

FINDINGS = ["nodule", "effusion", "edema"]


def findings_manifest(root):
    """The synthetic cohort's manifest rewritten ChestX-ray14 / CheXpert style: the nodule label as a 0/1
    column, two more findings with uncertain (-1) and blank entries, and an age column that is no finding."""
    cases = pd.read_csv(root / "cases.csv", dtype=str)
    patient = cases["patient_id"].str[1:].astype(int)
    manifest = pd.DataFrame({
        "path": cases["path"], "patient_id": cases["patient_id"], "age": (30 + patient).astype(str),
        "nodule": (cases["label"] == "nodule").astype(int).astype(str),
        "effusion": np.where(patient % 5 == 1, "-1", (patient % 3 == 0).astype(int).astype(str)),
        "edema": np.where(patient % 7 == 2, "", (patient % 4 == 1).astype(int).astype(str)),
    })
    manifest.to_csv(root / "multilabel.csv", index=False)
    return root / "multilabel.csv", manifest


@pytest.fixture(scope="module")
def multilabel_run(tmp_path_factory):
    root = make_xray(tmp_path_factory.mktemp("ml") / "data", patients=12, size=32, seed=2)
    manifest, written = findings_manifest(root)
    cfg = ExperimentConfig.from_dict({
        "task": "multilabel", "data": {"root": str(root), "manifest": str(manifest)},
        "model": {"weights": "none"}, "transforms": {"input_size": [32, 32]},
        "train": {"epochs": 2, "batch_size": 8}, "cv": {"folds": 2}})
    return run_cv(cfg, tmp_path_factory.mktemp("ml") / "run", progress=False), written


def test_summary_has_every_finding_and_the_macro_auc_with_cis(multilabel_run):
    result, _ = multilabel_run
    summary = json.loads((result.run_dir / "cv_summary.json").read_text())
    assert summary["schema"] == "medtl.multilabel_summary/1" and summary["findings"] == FINDINGS
    aucs = []
    for name in FINDINGS:
        entry = summary["per_finding"][name]
        lo, hi = entry["bootstrap_ci"]
        assert 0 <= lo <= entry["auc"] <= hi <= 1 and len(entry["delong_ci"]) == 2, name
        assert 0 < entry["n_positive"] < entry["n_patients"] <= 12
        assert 0 <= entry["threshold"]["threshold"] <= 1
        aucs.append(entry["auc"])
    lo, hi = summary["macro"]["bootstrap_ci"]
    assert summary["macro"]["auc"] == pytest.approx(np.mean(aucs)) and lo <= summary["macro"]["auc"] <= hi
    assert "macro AUC" in result.headline


def test_uncertain_and_blank_entries_are_missing_and_left_out(multilabel_run):
    result, written = multilabel_run
    oof = result.oof.set_index("case_id")
    cases = pd.read_csv(result.run_dir / "cases.csv", dtype={"case_id": str}).set_index("case_id")
    row_of = dict(zip(written["path"].map(lambda p: p.rsplit("/", 1)[-1].split(".")[0]), range(len(written))))
    for case in oof.index:
        entry = written.iloc[row_of[case]]
        assert np.isnan(oof.loc[case, "y_effusion"]) == (entry["effusion"] == "-1")
        assert np.isnan(oof.loc[case, "y_edema"]) == (entry["edema"] == "")
    assert [c for c in cases.columns if c.startswith("y_")] == [f"y_{f}" for f in FINDINGS]  # age is no finding
    summary = json.loads((result.run_dir / "cv_summary.json").read_text())
    read = oof.groupby("patient_id")["y_effusion"].max().notna().sum()
    assert summary["per_finding"]["effusion"]["n_patients"] == read < 12


def test_patient_report_lists_every_finding(multilabel_run):
    result, _ = multilabel_run
    patients = pd.read_csv(result.run_dir / "reports" / "patients.csv", dtype={"patient_id": str}, keep_default_na=False)
    assert len(patients) == 12
    for name in FINDINGS:
        assert set(patients[f"{name}_call"]) <= {"present", "absent"}
        assert set(patients[f"{name}_reference"]) <= {"present", "absent", ""}
    assert "edema" in (result.run_dir / "reports" / "patients.html").read_text()


def test_masked_loss_ignores_unread_findings():
    logits = torch.zeros(2, 3, requires_grad=True)
    target = torch.tensor([[1.0, float("nan"), 0.0], [float("nan"), 1.0, 1.0]])
    MaskedBCELoss(pos_weight=torch.tensor([2.0, 1.0, 1.0]))(logits, target).backward()
    assert logits.grad[0, 1] == 0 and logits.grad[1, 0] == 0 and (logits.grad[~torch.isnan(target)] != 0).all()


def test_a_value_that_is_no_finding_names_file_row_and_column(tmp_path):
    root = make_xray(tmp_path / "data", patients=4, size=32, seed=1)
    manifest, written = findings_manifest(root)
    written.loc[2, "edema"] = "maybe"
    written.to_csv(manifest, index=False)
    cfg = ExperimentConfig.from_dict({"task": "multilabel", "data": {"root": str(root), "manifest": str(manifest)}})
    with pytest.raises(ValueError, match=r"multilabel.csv: row 4, column 'edema': 'maybe' is not a finding value"):
        load_table(cfg)
    with pytest.raises(ValueError, match="data.layout 'class-folders' has none"):
        load_table(cfg.with_overrides(["data.layout=class-folders"]))
