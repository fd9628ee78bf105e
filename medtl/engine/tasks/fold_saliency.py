"""Saliency of chosen cases of a cross-validated run, each case explained by the fold model that never saw its
patient, on the run's own transforms: the end of `medtl cv`, `medtl explain` and `medtl predict` share it."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.engine.pipeline.datasets import CaseCache
from medtl.engine.training.model_files import load_fold_model
from medtl.engine.training.setup import Pipelines
from medtl.explain import choose_saliency, explain_cases, write_explain_summary
from medtl.explain.auto import check_method
from medtl.explain.geometry import InputGrid
from medtl.explain.maps import Models, as_models
from medtl.io import read_image
from medtl.io.image import ImageData
from medtl.run_folder import RunFolder

ALL = "all"
# Cases explained per call: bounds the memory of a backward pass (and of the randomisation check's second one).
BATCH_2D, BATCH_3D = 32, 2


def top_cases(oof: pd.DataFrame, target: str, n: int | str | None) -> list[str]:
    """The `n` cases with the highest out-of-fold probability of `target` (`n` None or "all": every case).

    Example:
        >>> top_cases(pd.DataFrame({"case_id": ["a", "b"], "p_x": [0.2, 0.9]}), "x", 1)
        ['b']
    """
    ranked = oof.sort_values(f"p_{target}", ascending=False)["case_id"]
    if n is None or n == ALL:
        return list(ranked)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"explain.cases must be a whole number of cases, 0 or more, or null (all). Got {n!r} instead.")
    return list(ranked.head(n))


def explain_in_batches(model: Models, batch: torch.Tensor, images: list[ImageData], case_ids: list[str],
                       masks: list[np.ndarray | None], out_dir: Path, method: str, target_layer: str | None,
                       class_idx: int, grid: InputGrid | None = None) -> tuple[list[dict[str, Any]], str]:
    """`explain_cases` over `batch` in slices of `BATCH_2D` images or `BATCH_3D` volumes, with the method and layer
    `choose_saliency` resolves for `model` (one model or a list of fold models); returns the parts and how the
    method was chosen.

    Example:
        >>> parts, by = explain_in_batches(model, x, images, ids, masks, out, "auto", "auto", 1)  # doctest: +SKIP
    """
    first = as_models(model)[0]
    choice = choose_saliency(method, target_layer, first, tuple(batch.shape[2:]))
    size = BATCH_2D if batch.ndim == 4 else BATCH_3D
    parts = [explain_cases(model, batch[i : i + size], images[i : i + size], case_ids[i : i + size],
                           masks[i : i + size], out_dir, choice.target_layer, choice.method, class_idx=class_idx,
                           grid=grid)
             for i in range(0, len(case_ids), size)]
    return parts, choice.chosen_by


def explain_with_fold_models(cfg: ExperimentConfig, run: RunFolder, table: CaseTable, oof: pd.DataFrame,
                             classes: list[str], target: str, pipes: Pipelines, cache: CaseCache,
                             case_ids: Sequence[str], method: str) -> dict[str, Any]:
    """Explain `case_ids` (rows of `table`, preprocessed in `cache`) into run/explain/ and write its summary.

    Example:
        >>> explain_with_fold_models(cfg, run, table, oof, ["normal", "nodule"], "nodule", pipes, cache,
        ...                          ["P001_01"], "gradcam")  # doctest: +SKIP
    """
    check_method(method)
    row_of = {case: i for i, case in enumerate(table.df["case_id"])}
    fold_of = dict(zip(oof["case_id"], oof["fold"]))
    unknown = [c for c in case_ids if c not in row_of or c not in fold_of]
    if unknown:
        raise ValueError(f"{run.oof}: no out-of-fold prediction for case(s) {unknown}")
    parts, chosen_by = [], None
    for fold in sorted({int(fold_of[c]) for c in case_ids}):
        model = load_fold_model(cfg, run.root, fold, len(classes))
        rows = [row_of[c] for c in case_ids if int(fold_of[c]) == fold]
        cases = table.df.iloc[rows]
        batch = torch.stack([torch.as_tensor(cache.subset(np.array([r]), pipes.eval)[0]["image"]) for r in rows])
        images = [read_image(c.image, series_uid=_text(c, "series")) for c in cases.itertuples()]
        masks = [read_image(m).array > 0 if m else None for m in (_text(c, "mask") for c in cases.itertuples())]
        fold_parts, chosen_by = explain_in_batches(model, batch, images, list(cases["case_id"]), masks, run.explain,
                                                   method, cfg["explain.target_layer"], classes.index(target), pipes.grid)
        parts += fold_parts
    return write_explain_summary(parts, run.explain, chosen_by)


def _text(row: Any, column: str) -> str | None:
    value = getattr(row, column, None)
    return value if isinstance(value, str) and value else None
