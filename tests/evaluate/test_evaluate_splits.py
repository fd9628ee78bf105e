"""Patient-grouped splits, their JSON round trip, the feasibility refusal and the leakage checks."""
import json

import numpy as np
import pandas as pd
import pytest

from medtl.data.case_table import CaseTable
from medtl.evaluate import LeakageError, Splits, check_feasible, check_leakage, inner_split, make_splits, patient_labels


def _table(n_patients: dict[str, int], images_per_patient: int = 3, seed: int = 0) -> CaseTable:
    """Patients with several images each; every third patient of the first class also has an image filed under
    the next class's folder (a follow-up with another finding), so a patient's images span label folders."""
    rng = np.random.default_rng(seed)
    classes = list(n_patients)
    rows = []
    for c, label in enumerate(classes):
        for i in range(n_patients[label]):
            patient = f"{label}-{i:03d}"
            n_images = int(rng.integers(1, images_per_patient + 1))
            labels = [label] * n_images
            if c == 0 and i % 3 == 0:
                labels.append(classes[1])
            for j, image_label in enumerate(labels):
                rows.append({"case_id": f"{patient}-{j}", "patient_id": patient,
                             "image": f"data/{image_label}/{patient}_{j}.png", "label": image_label})
    return CaseTable(pd.DataFrame(rows))


def test_patients_spread_over_label_folders_stay_in_one_fold_through_json(tmp_path):
    table = _table({"normal": 30, "pneumonia": 20})
    spread = table.df.groupby("patient_id")["label"].nunique()
    assert (spread > 1).sum() >= 5  # the table really has patients whose images sit in two label folders

    path = make_splits(table, folds=5, seed=3).to_json(tmp_path / "splits.json")
    splits = Splits.from_json(path)

    held_out = [p for fold in splits.folds for p in fold]
    assert len(held_out) == len(set(held_out)) == table.df["patient_id"].nunique()
    fold = splits.fold_of(table)
    assert (table.df.assign(fold=fold).groupby("patient_id")["fold"].nunique() == 1).all()
    check_leakage(splits, table)


def test_folds_are_stratified_by_patient_label():
    table = _table({"normal": 40, "pneumonia": 10})
    labels = patient_labels(table.df)
    n_ill = int((labels == "pneumonia").sum())
    assert n_ill > 10  # some normal-folder patients tie with a pneumonia image and count as the rarer class
    splits = make_splits(table, folds=5, seed=0)
    ill_per_fold = [int((labels[fold] == "pneumonia").sum()) for fold in splits.folds]
    assert sum(ill_per_fold) == n_ill and max(ill_per_fold) - min(ill_per_fold) <= 1
    assert [len(fold) for fold in splits.folds] == [10, 10, 10, 10, 10]


def test_repeats_use_new_seeds_and_round_trip(tmp_path):
    table = _table({"a": 12, "b": 12})
    splits = make_splits(table, folds=3, seed=7, repeats=3)
    assert splits.n_repeats == 3 and splits.seed == 7
    assert splits.folds != splits.further_repeats[0]
    back = Splits.from_json(splits.to_json(tmp_path / "splits.json"))
    assert back == splits
    for r in range(3):
        assert sorted(p for fold in back.all_repeats()[r] for p in fold) == sorted(table.df["patient_id"].unique())


@pytest.mark.parametrize("counts, folds, expected", [
    ({"normal": 9, "pneumonia": 3}, 5, r"at least 5 patients of every class; patients per class: "
                                       r"normal: \d+, pneumonia: 3\. Too few: pneumonia"),
    ({"normal": 6}, 5, r"only one class in the table \(normal: 6 patients\)"),
])
def test_infeasible_tables_are_refused_with_counts_per_class(counts, folds, expected):
    rows = [{"case_id": f"{label}{i}", "patient_id": f"{label}{i}", "image": f"{label}{i}.png", "label": label}
            for label, n in counts.items() for i in range(n)]
    table = CaseTable(pd.DataFrame(rows))
    with pytest.raises(ValueError, match=expected):
        check_feasible(table, folds)
    with pytest.raises(ValueError, match=expected):
        make_splits(table, folds=folds)


def test_mixed_label_patients_count_as_their_majority_then_rarer_class():
    rows = [("tie", "normal"), ("tie", "pneumonia"), ("mostly-normal", "normal"), ("mostly-normal", "normal"),
            ("mostly-normal", "pneumonia"), *[(f"n{i}", "normal") for i in range(4)], ("ill", "pneumonia")]
    df = pd.DataFrame(rows, columns=["patient_id", "label"])
    df["case_id"] = df["image"] = [f"img{i}" for i in range(len(df))]
    assert patient_labels(df)[["tie", "mostly-normal", "ill"]].tolist() == ["pneumonia", "normal", "pneumonia"]
    assert check_feasible(CaseTable(df), folds=2) == {"normal": 5, "pneumonia": 2}


def test_unlabelled_case_is_named():
    df = _table({"a": 5, "b": 5}).df
    df.loc[4, "label"] = None
    with pytest.raises(ValueError, match=r"row 4 \(image '.*'\) has no label"):
        make_splits(CaseTable(df), folds=2)


def test_inner_split_is_patient_grouped_and_stratified():
    table = _table({"normal": 20, "pneumonia": 10})
    splits = make_splits(table, folds=3, seed=0)
    train_patients = sorted(set(table.df["patient_id"]) - set(splits.folds[0]))
    train, val = inner_split(table, train_patients, seed=1, val_fraction=0.25)
    assert sorted(train + val) == train_patients and not set(train) & set(val)
    assert any(p.startswith("pneumonia") for p in val) and any(p.startswith("normal") for p in val)
    assert len(val) == round(0.25 * len(train_patients))
    with pytest.raises(ValueError, match="at least 2 training patients of each"):
        inner_split(table, ["normal-001", "normal-002", "pneumonia-001"], seed=0)


def test_fold_of_names_a_patient_missing_from_the_splits():
    table = _table({"a": 4, "b": 4})
    splits = make_splits(table, folds=2)
    splits.folds = [[p for p in fold if p != "a-001"] for fold in splits.folds]
    with pytest.raises(ValueError, match=r"\['a-001'\] \(first at row \d+ \(image 'data/a/a-001_0.png'\)\) are in no"):
        splits.fold_of(table)


def test_injected_patient_leak_in_splits_json_is_refused(tmp_path):
    table = _table({"normal": 10, "pneumonia": 10})
    path = make_splits(table, folds=5).to_json(tmp_path / "splits.json")
    payload = json.loads(path.read_text())
    leaked = payload["folds"][0][0]
    payload["folds"][3].append(leaked)
    path.write_text(json.dumps(payload))
    with pytest.raises(LeakageError, match=rf"patient '{leaked}' is listed in folds 0 and 3"):
        check_leakage(Splits.from_json(path), table)


def test_shared_study_uid_across_patients_is_refused():
    df = _table({"normal": 10, "pneumonia": 10}).df
    df["study"] = [f"1.2.840.{i}" for i in range(len(df))]
    splits = make_splits(CaseTable(df), folds=5)
    check_leakage(splits, CaseTable(df))
    a, b = splits.folds[0][0], splits.folds[1][0]  # two patient ids, one person: same study uid
    df.loc[df["patient_id"].isin([a, b]), "study"] = "1.2.840.999"
    with pytest.raises(LeakageError, match=rf"study \(StudyInstanceUID\) '1.2.840.999' is held out in folds \[0, 1\] "
                                           rf".*patients \['{min(a, b)}', '{max(a, b)}'\]"):
        check_leakage(splits, CaseTable(df))


def test_identical_image_content_in_two_folds_is_refused():
    df = _table({"normal": 10, "pneumonia": 10}).df
    df["image_hash"] = [f"h{i}" for i in range(len(df))]
    splits = make_splits(CaseTable(df), folds=2)
    first = df.index[df["patient_id"] == splits.folds[0][0]][0]
    second = df.index[df["patient_id"] == splits.folds[1][0]][0]
    df.loc[[first, second], "image_hash"] = "same-pixels"
    with pytest.raises(LeakageError, match=rf"identical image content \(hash\) 'same-pixels'.*"
                                           rf"{df.loc[first, 'image']}"):
        check_leakage(splits, df)


def test_malformed_splits_file_is_named(tmp_path):
    path = tmp_path / "splits.json"
    path.write_text(json.dumps({"schema": "medtl.splits/1", "folds": [["p1"]]}))
    with pytest.raises(ValueError, match=rf"{path}: repeat 0 must be a list of at least two folds"):
        Splits.from_json(path)
