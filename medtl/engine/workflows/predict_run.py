"""`predict`: apply a trained classifier to new data, labelled or not, and write its predictions, saliency maps
for the highest-scoring cases and the per-patient report (`medtl predict MODEL_OR_RUN DATA`)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset

from medtl.data import summarize
from medtl.data.case_table import CaseTable
from medtl.data.layouts.layout_unlabelled import scan_new_data
from medtl.engine.workflows.console import say
from medtl.engine.pipeline.datasets import case_items
from medtl.engine.tasks.fold_saliency import explain_in_batches, top_cases
from medtl.engine.training.loop import predict_proba
from medtl.engine.tasks.predictions import prediction_frame
from medtl.engine.training.probe import head_inputs
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.engine.training.setup import Pipelines, case_cache, input_grid
from medtl.engine.workflows.trained_model import TrainedModel, load_trained_model
from medtl.evaluate import aggregate, auc_inputs
from medtl.evaluate.summary import auc_with_cis, without_nan
from medtl.explain import file_stem, write_explain_summary
from medtl.explain.auto import check_method
from medtl.io import read_image
from medtl.report import CohortSummary, write_predictions_report
from medtl.run_folder import RunFolder

ID_DTYPES = {"case_id": str, "patient_id": str, "label": str, "prediction": str}


@dataclass
class PredictResult:
    """What `predict` wrote: the output folder, the per-image predictions, the per-patient table (as in
    reports/patients.csv, pseudonymised when asked) and the report's index page.

    Example:
        >>> result = predict("runs/final", "data/new_xrays")  # doctest: +SKIP
        >>> result.patients[["patient_id", "probability", "prediction"]].head(1)  # doctest: +SKIP
    """

    out: Path
    predictions: pd.DataFrame
    patients: pd.DataFrame
    report: Path
    model: str


def predict(model_or_run: str | Path, data: str | Path, out: str | Path | None = None, *, layout: str = "auto",
            cases: int | None = None, method: str | None = None, threshold: float | None = None,
            pseudonymize_key: str | None = None, overwrite: bool = False, progress: bool = True) -> PredictResult:
    """Predict every case of `data` with the model at `model_or_run` and write into `out`
    (default `<run folder>/predict-<data name>`; an existing one is kept unless `overwrite`):

        cases.csv                the scanned cases
        predictions.csv          case_id, patient_id, [label, y_true], p_<class>: one row per image
        explain/                 <case_id>.png / .nii.gz / summary.json for the `cases` highest-scoring cases
        reports/                 index.html, <patient_id>.html, patients.csv, patients.json
        predict_summary.json     which model(s), classes, threshold, aggregation, counts, [patient-level AUC]

    `model_or_run`: a `medtl train` run, a `medtl cv` run (its fold models form an ensemble: their class
    probabilities are averaged, and so are their saliency maps) or a model.safetensors file beside its
    model.json and config.yaml.
    `data`: a folder of images (labels not needed) or a CSV manifest, scanned by `scan_new_data` with `layout`.
    Patients are combined with the model's `cv.aggregate` and called at `threshold` (default: the cv run's
    threshold, 0.5 for a single model). When every case has a label among the model's classes, the report shows
    the patient-level AUC; otherwise it shows no metrics. `cases` and `method` default to the config's `explain.*`;
    `pseudonymize_key` replaces ids in reports/ as `medtl report` does.

    Example:
        >>> result = predict("runs/demo", "data/new_xrays", cases=4)  # doctest: +SKIP
        >>> result.out  # doctest: +SKIP
        PosixPath('runs/demo/predict-new_xrays')
    """
    trained = load_trained_model(model_or_run)
    cfg = trained.cfg
    cases = cfg["explain.cases"] if cases is None else cases
    method = method or cfg["explain.method"]
    _check_options(cases, method, threshold)
    table = scan_new_data(data, layout)
    models = trained.load()
    pipes = Pipelines.from_config(cfg)
    out = Path(out) if out is not None else default_out(trained, data)
    check_out_folder(out, Path(data), trained.folder)
    RunFolder(out).create(overwrite)  # only once every input has been checked: an earlier output is kept until then
    say(progress, f"{trained.describe()} ({trained.source})\n{summarize(table)}")
    table.to_csv(out / "cases.csv")
    inputs = case_cache(cfg, case_items(table, trained.classes, with_mask=False), pipes, progress).subset(
        np.arange(len(table)), pipes.eval)
    settings = TrainSettings.from_config(cfg)
    if cfg["train.strategy"] == "linear_probe":  # the fold models share one frozen backbone: run it once
        head_inputs(models[0], models[0].spec.classifier, inputs, settings)
    proba = np.mean([predict_proba(model, inputs, settings) for model in models], axis=0)
    pred = new_data_frame(table, proba, trained.classes, progress)
    pred.to_csv(out / "predictions.csv", index=False)
    chosen = top_cases(pred, trained.target, cases)
    if chosen:
        explain_new_cases(models, trained, table, inputs, chosen, out / "explain", method)
    cohort = cohort_summary(pred, trained, trained.threshold if threshold is None else threshold)
    note = f"Predictions of the {trained.describe()}."
    report = write_predictions_report(pred, cohort, out, pseudonymize_key, note=note)
    patients = pd.read_csv(out / "reports" / "patients.csv", dtype=ID_DTYPES)
    _write_summary(out, trained, table, pred, cohort, data)
    say(progress, f"predicted {len(pred)} cases of {len(patients)} patients into {out}; report {report}")
    return PredictResult(out, pred, patients, report, trained.describe())


def default_out(trained: TrainedModel, data: str | Path) -> Path:
    """`<run folder>/predict-<name of the data folder, or of the manifest without .csv>`.

    Example:
        >>> default_out(load_trained_model("runs/final"), "data/new_xrays")  # doctest: +SKIP
        PosixPath('runs/final/predict-new_xrays')
    """
    data = Path(data).absolute()
    return trained.folder / f"predict-{file_stem(data.stem if data.is_file() else data.name)}"


def check_out_folder(out: Path, data: Path, model_folder: Path) -> None:
    """Refuse an output folder that holds the data or the model (overwriting it would delete them), or that lies
    inside a data folder (its outputs would be scanned as images next time).

    Example:
        >>> check_out_folder(Path("data"), Path("data/new"), Path("runs/final"))
        Traceback (most recent call last):
        ...
        ValueError: output folder data holds the data data/new; choose an output folder outside it
    """
    target = out.resolve()
    for kept, what in ((data, "the data"), (model_folder, "the model")):
        if target == kept.resolve() or target in kept.resolve().parents:
            raise ValueError(f"output folder {out} holds {what} {kept}; choose an output folder outside it")
    if data.is_dir() and data.resolve() in target.parents:
        raise ValueError(f"output folder {out} lies inside the data folder {data}, where its images would be "
                         "scanned as cases next time; choose an output folder outside it")


def new_data_frame(table: CaseTable, proba: np.ndarray, classes: list[str], progress: bool = False) -> pd.DataFrame:
    """The predictions table of new data: case_id, patient_id, p_<class>, with label and y_true only when every
    case has a label among `classes` (otherwise no metric could be computed, and none is shown).

    Example:
        >>> frame = new_data_frame(table, np.full((len(table), 2), 0.5), ["normal", "nodule"])  # doctest: +SKIP
        >>> frame.columns.tolist()  # doctest: +SKIP
        ['case_id', 'patient_id', 'p_normal', 'p_nodule']
    """
    frame = prediction_frame(table, np.arange(len(table)), proba, classes, fold=-1).drop(columns="fold")
    if "label" in frame and not frame["label"].isin(classes).all():
        unusable = int((~frame["label"].isin(classes)).sum())
        if unusable < len(frame):
            say(progress, f"{unusable} of {len(frame)} cases have no label among {classes}; no metrics are shown")
        frame = frame.drop(columns=["label", "y_true"])
    return frame


def cohort_summary(pred: pd.DataFrame, trained: TrainedModel, threshold: float) -> CohortSummary:
    """What the report says about the cohort: the model's class, threshold and aggregation, and the patient-level
    AUC with its patient-bootstrap CI when the predictions are labelled with every class present.

    Example:
        >>> cohort_summary(pred, load_trained_model("runs/final"), 0.5).auc is None  # unlabelled  # doctest: +SKIP
        True
    """
    auc = low = high = None
    if "label" in pred:
        patients = aggregate(pred, how=trained.aggregate, positive=trained.positive)
        if set(range(len(trained.classes))) <= set(patients["y_true"]):
            y, scores = auc_inputs(patients, trained.classes, trained.positive)
            result = auc_with_cis(y, scores, patients["patient_id"], trained.classes)
            auc, (low, high) = result["auc"], result["bootstrap_ci"]
    return CohortSummary(positive=trained.target, auc=auc, ci_low=low, ci_high=high, threshold=threshold,
                         aggregate=trained.aggregate)


def explain_new_cases(models: Sequence[nn.Module], trained: TrainedModel, table: CaseTable, inputs: Dataset,
                      case_ids: Sequence[str], folder: Path, method: str) -> dict[str, Any]:
    """Saliency of `trained.target` for `case_ids` (rows of `table`, model inputs in `inputs`) by the ensemble of
    `models` into `folder`, in each image's own geometry, and its summary.json.

    Example:
        >>> explain_new_cases(models, trained, table, inputs, ["P101_01"], out / "explain", "gradcam")  # doctest: +SKIP
    """
    rows = [int(np.flatnonzero(table.df["case_id"] == case_id)[0]) for case_id in case_ids]
    datalist = table.to_datalist()
    cases = [datalist[r] for r in rows]
    device = next(models[0].parameters()).device
    batch = torch.stack([torch.as_tensor(inputs[r]["image"]) for r in rows]).to(device)
    images = [read_image(case["image"], series_uid=case.get("series")) for case in cases]
    masks = [read_image(case["mask"]).array > 0 if "mask" in case else None for case in cases]
    parts, chosen_by = explain_in_batches(list(models), batch, images, list(case_ids), masks, folder, method,
                                          trained.cfg["explain.target_layer"], trained.classes.index(trained.target),
                                          input_grid(trained.cfg))
    return write_explain_summary(parts, folder, chosen_by)


def _check_options(cases: int, method: str, threshold: float | None) -> None:
    if cases not in (None, "all") and (isinstance(cases, bool) or not isinstance(cases, int) or cases < 0):
        raise ValueError(f"cases must be a whole number of cases to explain, 0 or more, or None (all). "
                         f"Got {cases!r} instead.")
    check_method(method)
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a probability in [0, 1]. Got {threshold!r} instead.")


def _write_summary(out: Path, trained: TrainedModel, table: CaseTable, pred: pd.DataFrame, cohort: CohortSummary,
                   data: str | Path) -> None:
    summary = {
        "model": str(trained.source), "kind": trained.kind, "weights": [str(w) for w in trained.weights],
        "ensemble": len(trained.weights) > 1,
        "data": str(Path(data).absolute()), "classes": trained.classes, "positive": trained.positive,
        "reported_class": cohort.positive, "aggregate": cohort.aggregate, "threshold": cohort.threshold,
        "n_cases": len(pred), "n_patients": int(pred["patient_id"].nunique()), "labelled": "label" in pred,
        "patient_auc": cohort.auc, "patient_auc_bootstrap_ci": None if cohort.auc is None else [cohort.ci_low,
                                                                                                cohort.ci_high],
        "problems": [{"path": p.path, "reason": p.reason} for p in table.problems],
    }
    (out / "predict_summary.json").write_text(json.dumps(without_nan(summary), indent=2, allow_nan=False))
