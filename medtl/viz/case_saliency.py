"""A case's saliency recomputed with the fold model that held its patient out, on the grid of its image."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from medtl.engine.pipeline.datasets import case_items
from medtl.engine.training.model_files import load_fold_model
from medtl.engine.training.setup import Pipelines
from medtl.explain import choose_saliency, degenerate_reason, resize_to_image, saliency
from medtl.io import read_image
from medtl.io.image import ImageData
from medtl.viz.run import Run


@dataclass
class CaseSaliency:
    """One case's heatmap for the run's target class, with its image (and lesion mask, when the case has one).

    `heatmap` (values in [0, 1]) and `mask` lie on the grid of `image.array`: 2D as displayed, 3D in canonical
    RAS (x, y, z). `probability` is the out-of-fold probability of `target` from the model of `fold`. `method`
    is the method used ("auto" resolved); `flag` says why the map is no evidence (see
    `medtl.explain.degenerate_reason`), None when it may be shown.

    Example:
        >>> result = case_saliency(run, "P007_01")  # doctest: +SKIP
        >>> result.heatmap.shape == result.image.array.shape  # doctest: +SKIP
        True
    """

    case_id: str
    method: str
    target: str
    fold: int
    label: str | None
    probability: float
    image: ImageData
    heatmap: np.ndarray
    mask: np.ndarray | None
    flag: str | None = None

    @property
    def peak_slice(self) -> int | None:
        """Axial index (z) of the heatmap's maximum for a volume; None for a 2D image."""
        if self.heatmap.ndim != 3:
            return None
        return int(np.unravel_index(int(np.argmax(self.heatmap)), self.heatmap.shape)[2])


def case_saliency(run: Run, case_id: str, method: str = "auto") -> CaseSaliency:
    """The case's heatmap from the model of the fold that held its patient out, computed on the input the run's
    own transforms make (`Pipelines.from_config(...).preprocess`, then `.eval`) and resized to the image.

    Results are kept in `run.heatmaps`, so asking again costs nothing.

    Example:
        >>> case_saliency(run, run.top_cases(1)[0], "gradcampp").fold  # doctest: +SKIP
        1
    """
    key = (str(case_id), method)
    if key not in run.heatmaps:
        run.heatmaps[key] = _compute(run, str(case_id), method)
    return run.heatmaps[key]


def _compute(run: Run, case_id: str, method: str) -> CaseSaliency:
    prediction = run.prediction(case_id)
    fold = int(prediction["fold"])
    case = run.cases.subset(np.flatnonzero(run.cases.df["case_id"] == case_id))
    pipes = Pipelines.from_config(run.config)
    item = case_items(case, run.classes, with_mask=False)[0]
    batch = torch.as_tensor(pipes.eval(pipes.preprocess(item))["image"])[None]
    model = load_fold_model(run.config, run.run_dir, fold, len(run.classes))
    choice = choose_saliency(method, run.config["explain.target_layer"], model, tuple(batch.shape[2:]))
    heatmap = saliency(model, batch, choice.target_layer, choice.method, class_idx=run.classes.index(run.target))[0]
    row = case.to_datalist()[0]
    image = read_image(row["image"], series_uid=row.get("series"))
    mask = read_image(row["mask"]).array > 0 if "mask" in row else None
    label = prediction.get("label")
    return CaseSaliency(
        case_id=case_id,
        method=choice.method,
        target=run.target,
        fold=fold,
        label=label if isinstance(label, str) else None,
        probability=float(prediction[f"p_{run.target}"]),
        image=image,
        heatmap=resize_to_image(heatmap, image, pipes.grid),
        mask=mask,
        flag=degenerate_reason(heatmap, batch[0]),
    )
