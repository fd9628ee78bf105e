"""Multi-label classification as a `Task`: one sigmoid output per finding (`medtl.engine.tasks.findings`), binary
cross-entropy weighted per finding and masked where a finding was not read, macro patient-level AUC as the
validation metric, per-finding and macro AUC with CIs and per-finding thresholds in the summary, and a
per-patient report listing every finding."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.engine.pipeline.datasets import CaseCache
from medtl.engine.tasks.findings import PREFIX, finding_names
from medtl.engine.training.loop import predict_proba
from medtl.engine.tasks.multilabel_summary import (format_multilabel_summary, macro_auc, patient_findings,
                                             summarize_multilabel)
from medtl.engine.training.objective import Objective
from medtl.engine.training.selection import Validation
from medtl.engine.tasks.task import Task
from medtl.report.findings import write_findings_report
from medtl.run_folder import RunFolder


class MaskedBCELoss(nn.Module):
    """Binary cross-entropy with logits over findings, averaged over the (case, finding) entries that were
    read: NaN targets (uncertain or blank) add nothing to the loss or its gradient. `pos_weight` (one per
    finding) weights the present entries, as in torch's `BCEWithLogitsLoss`.

    Example:
        >>> loss = MaskedBCELoss()(torch.zeros(2, 2), torch.tensor([[1.0, float("nan")], [0.0, 1.0]]))
        >>> round(loss.item(), 4)  # log(2): every read entry is at p=0.5
        0.6931
    """

    def __init__(self, pos_weight: torch.Tensor | None = None):
        super().__init__()
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        read = ~torch.isnan(target)
        losses = nn.functional.binary_cross_entropy_with_logits(logits, torch.nan_to_num(target), reduction="none",
                                                                pos_weight=self.pos_weight)
        return (losses * read).sum() / read.sum().clamp(min=1)


def positive_weights(y: np.ndarray) -> torch.Tensor:
    """Per-finding weights of present entries: read absent / read present (1 when a finding has neither), so
    every finding's positives weigh as much as its negatives.

    Example:
        >>> positive_weights(np.array([[1, 0], [0, np.nan], [0, 1], [0, 1]]))
        tensor([3.0000, 0.5000])
    """
    present, absent = np.nansum(y == 1, axis=0), np.nansum(y == 0, axis=0)
    return torch.tensor(np.where(present > 0, absent / np.maximum(present, 1), 1.0), dtype=torch.float32)


class MultiLabelTask(Task):
    """Several findings per case, each present, absent or not read; one sigmoid output per finding.

    Example:
        >>> task = MultiLabelTask(cfg, with_findings(table, "data/cxr14/cases.csv"))  # doctest: +SKIP
        >>> task.findings                                                             # doctest: +SKIP
        ['atelectasis', 'effusion', 'nodule']
    """

    def __init__(self, cfg: ExperimentConfig, table: CaseTable):
        self.findings = finding_names(table)
        if not self.findings:
            raise ValueError("task multilabel needs finding columns: scan a manifest with one 0/1 column per "
                             "finding (medtl.engine.tasks.findings.with_findings)")
        self.targets = table.df[[PREFIX + f for f in self.findings]].to_numpy(np.float32)
        super().__init__(cfg, table)
        if self.settings.imbalance == "sampler":
            raise ValueError("train.imbalance sampler draws by one label per case; a multi-label run weights each "
                             "finding's loss instead: use train.imbalance loss (or none)")

    @property
    def num_outputs(self) -> int:
        return len(self.findings)

    def make_items(self) -> list[dict[str, Any]]:
        items = []
        for row, case in enumerate(self.table.to_datalist()):
            item = {k: case[k] for k in ("image", "series") if k in case}
            items.append({**item, "y": self.targets[row].copy(), "row": row})
        return items

    def objective(self, rows: np.ndarray) -> Objective:
        weights = positive_weights(self.targets[rows]) if self.settings.imbalance == "loss" else None
        return Objective(criterion=MaskedBCELoss(weights), float_targets=True)

    def validation(self, cache: CaseCache, rows: np.ndarray) -> Validation:
        data = cache.subset(rows, self.pipes.eval)

        def patient_macro_auc(model: nn.Module) -> float:
            patients = patient_findings(self.predict_frame(model, data, rows, 0), self.findings,
                                        self.cfg["cv.aggregate"])
            return macro_auc(patients[[f"y_{f}" for f in self.findings]].to_numpy(float),
                             patients[[f"p_{f}" for f in self.findings]].to_numpy(float))

        return Validation("val_macro_auc", patient_macro_auc)

    def predict(self, model: nn.Module, cache: CaseCache, rows: np.ndarray, fold: int) -> pd.DataFrame:
        return self.predict_frame(model, cache.subset(rows, self.pipes.eval), rows, fold)

    def predict_frame(self, model: nn.Module, data: Any, rows: np.ndarray, fold: int) -> pd.DataFrame:
        """case_id, patient_id, fold, y_<finding> (NaN: not read), p_<finding> for the cases at `rows`."""
        proba = predict_proba(model, data, self.settings, activation=torch.sigmoid)
        cases = self.table.df.iloc[rows]
        frame = pd.DataFrame({"case_id": cases["case_id"].to_numpy(), "patient_id": cases["patient_id"].to_numpy(),
                              "fold": fold})
        for j, name in enumerate(self.findings):
            frame[f"y_{name}"] = self.targets[rows, j]
        for j, name in enumerate(self.findings):
            frame[f"p_{name}"] = proba[:, j]
        return frame

    def summarize(self, oof: pd.DataFrame) -> dict[str, Any]:
        return summarize_multilabel(oof, self.findings, self.cfg["cv.aggregate"], seed=self.cfg["seed"])

    def format_summary(self, summary: dict[str, Any]) -> str:
        return format_multilabel_summary(summary)

    def finish(self, run: RunFolder, oof: pd.DataFrame, cache: CaseCache) -> None:
        """Write the per-patient report: every finding's probability, call at its threshold and reference."""
        summary = run.read_summary()
        thresholds = {f: (e.get("threshold") or {}).get("threshold") for f, e in summary["per_finding"].items()}
        write_findings_report(patient_findings(oof, self.findings, self.cfg["cv.aggregate"]), thresholds,
                              run.reports)
