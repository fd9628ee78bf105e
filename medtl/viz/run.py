"""`load_run`: a finished classification run folder read back into memory (config, cases, predictions, summaries)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.run_folder import RunFolder, read_json, target_class

if TYPE_CHECKING:
    from medtl.viz.case_saliency import CaseSaliency


@dataclass
class Run:
    """A classification run as `run_cv` wrote it: resolved config, the CaseTable used, the out-of-fold
    predictions, cv_summary.json and explain/summary.json (None when the run explained no case).

    `heatmaps` holds the saliency maps computed so far by `case_saliency`, keyed by (case_id, method), so that
    redrawing a case (a slider moved in `browse`) does not run the model again.

    Example:
        >>> run = load_run("runs/demo")  # doctest: +SKIP
        >>> run.target, run.top_cases(2)  # doctest: +SKIP
        ('nodule', ['P007_01', 'P003_02'])
    """

    run_dir: Path
    config: ExperimentConfig
    cases: CaseTable
    oof: pd.DataFrame
    summary: dict[str, Any]
    explain_summary: dict[str, Any] | None
    heatmaps: dict[tuple[str, str], CaseSaliency] = field(default_factory=dict, repr=False)

    @property
    def classes(self) -> list[str]:
        """Class names in the order of the model's outputs."""
        return list(self.summary["classes"])

    @property
    def target(self) -> str:
        """The class whose saliency is shown: the positive class of a binary run, else the last class
        (the class `run_cv` explains)."""
        return target_class(self.classes, self.summary["positive"])

    def __repr__(self) -> str:
        return (f"Run({str(self.run_dir)!r}, {len(self.oof)} cases, {self.oof['patient_id'].nunique()} patients, "
                f"classes={self.classes}, target={self.target!r})")

    def top_cases(self, n: int | None = None) -> list[str]:
        """Case ids by out-of-fold probability of `target`, highest first (all of them when `n` is None).

        Example:
            >>> run.top_cases(1)  # doctest: +SKIP
            ['P007_01']
        """
        ranked = self.oof.sort_values([f"p_{self.target}", "case_id"], ascending=[False, True])
        return list(ranked["case_id"].head(n) if n is not None else ranked["case_id"])

    def prediction(self, case_id: str) -> pd.Series:
        """The out-of-fold prediction row of one case (fold, label, p_<class>).

        Example:
            >>> int(run.prediction("P007_01")["fold"])  # doctest: +SKIP
            2
        """
        rows = self.oof.index[self.oof["case_id"] == str(case_id)]
        if len(rows) == 0:
            known = ", ".join(self.oof["case_id"].head(5))
            raise ValueError(f"case {case_id!r} is not in {self.run_dir / 'oof_predictions.csv'} "
                           f"({len(self.oof)} cases: {known}, ...)")
        return self.oof.loc[rows[0]]


    def explained(self) -> pd.DataFrame:
        """The cases the run explained (explain/summary.json), each with its out-of-fold label, fold and
        probability of `target`, highest probability first: `pointing_hit` (None without a lesion mask),
        `energy_in_mask`, `randomization_spearman` and `degenerate` (why a map is no evidence, or None).

        Example:
            >>> hits = run.explained().query("pointing_hit == True")  # doctest: +SKIP
            >>> viz.compare_methods(run, hits["case_id"].iloc[0])       # doctest: +SKIP
        """
        if not self.explain_summary:
            raise ValueError(f"{self.run_dir / 'explain'}: the run explained no case (explain.cases: 0?)")
        scores = pd.DataFrame(self.explain_summary["cases"]).astype({"case_id": str})
        columns = ["case_id", "label", "fold", f"p_{self.target}"]
        table = self.oof[[c for c in columns if c in self.oof]].merge(scores, on="case_id", how="inner")
        return table.sort_values([f"p_{self.target}", "case_id"], ascending=[False, True], ignore_index=True)


def load_run(run_dir: str | Path) -> Run:
    """Read a classification run folder written by `medtl.run_cv` (or `medtl cv`).

    Example:
        >>> run = load_run("runs/demo")  # doctest: +SKIP
        >>> len(run.oof) == len(run.cases)  # doctest: +SKIP
        True
    """
    folder = RunFolder(run_dir)
    folder.require(folder.config, what="a finished medtl run folder")
    config = folder.read_config()
    if config["task"] != "classification":
        raise ValueError(f"{folder.config}: task is {config['task']!r}; medtl.viz shows classification runs only")
    folder.require(folder.cases, folder.oof, folder.summary, what="a finished medtl run folder")
    explain_summary = folder.explain / "summary.json"
    return Run(
        run_dir=folder.root,
        config=config,
        cases=folder.read_cases(),
        oof=folder.read_oof(),
        summary=folder.read_summary(),
        explain_summary=read_json(explain_summary) if explain_summary.is_file() else None,
    )

