"""Lesion segmentation with a U-Net as a `Task` of the shared cross-validation (`medtl cv` with
`task: segmentation`).

Training sees random patches (MONAI `RandCropByPosNegLabeld`, a share of them centred on lesion voxels) or,
with `seg.patch_size: null`, whole volumes resized to `transforms.input_size`. Inference runs MONAI's
`sliding_window_inference` with the training patch as its window. Masks are binary (any nonzero voxel is
lesion). Dice and HD95 are measured against each case's own mask in its original voxel grid, so HD95 is in
millimetres.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
from monai import transforms as T
from monai.inferers import sliding_window_inference
from monai.losses import DiceCELoss, DiceLoss
from monai.metrics import compute_dice
from torch import nn
from torch.utils.data import DataLoader, Dataset

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.engine.pipeline.datasets import CaseCache, case_items
from medtl.engine.training.objective import Objective
from medtl.engine.tasks.seg_summary import format_seg_summary, seg_cv_summary
from medtl.engine.training.selection import Validation
from medtl.engine.training.recipe.settings import TrainSettings, autocast_for
from medtl.engine.training.setup import Pipelines
from medtl.engine.tasks.task import Task
from medtl.evaluate import segmentation_metrics
from medtl.explain.geometry import InputGrid, resize_to_image
from medtl.io import read_image

LOSSES = {"dice_ce": DiceCELoss, "dice": DiceLoss}
SEG_CLASSES = 2  # background, lesion


@dataclass(frozen=True)
class SegSettings:
    """The `seg.*` section of a config, with the patch size resolved against the model input size.

    `patch_size` is the training patch and the sliding window; None trains on whole volumes.

    Example:
        >>> cfg = ExperimentConfig.from_dict({"seg": {"patch_size": [8, 8, 8]}})
        >>> SegSettings.from_config(cfg, input_size=(16, 16, 16)).window((16, 16, 16))
        (8, 8, 8)
    """

    patch_size: tuple[int, ...] | None
    patches_per_volume: int
    positive_fraction: float
    overlap: float
    loss: str

    @classmethod
    def from_config(cls, cfg: ExperimentConfig, input_size: Sequence[int]) -> "SegSettings":
        patch = cfg["seg.patch_size"]
        if patch is not None and (len(patch) != len(input_size) or any(p > s for p, s in zip(patch, input_size))):
            raise ValueError(f"{cfg.source}: seg.patch_size {list(patch)} must have one size per axis of "
                             f"transforms.input_size {list(input_size)}, none larger")
        checks = (("seg.positive_fraction", 0.0 <= cfg["seg.positive_fraction"] <= 1.0, "between 0 and 1"),
                  ("seg.overlap", 0.0 <= cfg["seg.overlap"] < 1.0, "at least 0 and below 1"),
                  ("seg.patches_per_volume", cfg["seg.patches_per_volume"] >= 1, "at least 1"))
        for key, ok, rule in checks:
            if not ok:
                raise ValueError(f"{cfg.source}: {key} must be {rule}. Got {cfg[key]!r} instead.")
        return cls(None if patch is None else tuple(patch), cfg["seg.patches_per_volume"],
                   cfg["seg.positive_fraction"], cfg["seg.overlap"], cfg["seg.loss"])

    def window(self, input_size: Sequence[int]) -> tuple[int, ...]:
        """The sliding-window size: the training patch, or the whole model input."""
        return tuple(self.patch_size or input_size)


def segmentation_loss(name: str) -> nn.Module:
    """MONAI's Dice ("dice") or Dice + cross-entropy ("dice_ce") loss, for class logits against a label map
    with one channel. Dice is the lesion's alone (the background's Dice is near 1 whatever the model does, and
    would halve the lesion's weight) over the batch as one volume, so a patch without lesion adds its false
    positives to the batch's Dice instead of scoring 0 or 1 by itself.

    Example:
        >>> segmentation_loss("dice_ce").__class__.__name__
        'DiceCELoss'
    """
    if name not in LOSSES:
        raise ValueError(f"seg.loss must be one of {set(LOSSES)}. Got {name!r} instead.")
    return LOSSES[name](include_background=False, to_onehot_y=True, softmax=True, batch=True)


def training_pipeline(pipes: Pipelines, settings: SegSettings) -> T.Compose:
    """The per-epoch training transform: random patches first (when configured), then the run's augmentation
    and normalisation applied to each patch.

    Example:
        >>> training_pipeline(pipes, SegSettings((8, 8, 8), 2, 0.5, 0.25, "dice_ce")).transforms[0]  # doctest: +SKIP
        <monai.transforms.croppad.dictionary.RandCropByPosNegLabeld object at ...>
    """
    if settings.patch_size is None:
        return pipes.train
    crop = T.RandCropByPosNegLabeld(("image", "mask"), label_key="mask", spatial_size=settings.patch_size,
                                    pos=settings.positive_fraction, neg=1.0 - settings.positive_fraction,
                                    num_samples=settings.patches_per_volume)
    return T.Compose([crop, pipes.train])


@torch.no_grad()
def predict_lesion_probabilities(model: nn.Module, data: Dataset, settings: TrainSettings, window: Sequence[int],
                                 overlap: float = 0.25) -> list[np.ndarray]:
    """The lesion probability (float32; above 0.5 where the lesion class wins) of every voxel of every case of
    `data`, in the model's input grid, by sliding-window inference with windows of size `window`.

    Example:
        >>> predict_lesion_probabilities(model, val_ds, TrainSettings(), (64, 64, 64))[0].shape  # doctest: +SKIP
        (128, 128, 64)
    """
    device = settings.torch_device
    model.to(device).eval()
    maps: list[np.ndarray] = []
    for batch in DataLoader(data, batch_size=settings.batch_size, shuffle=False, num_workers=settings.loader_workers):
        with autocast_for(device, settings.precision):
            logits = sliding_window_inference(batch["image"].to(device), tuple(window), settings.batch_size, model,
                                              overlap=overlap, mode="gaussian")
        maps.extend(logits.float().softmax(dim=1)[:, 1].cpu().numpy())
    return maps


def dice_validation(data: Dataset, settings: TrainSettings, window: Sequence[int], overlap: float) -> Validation:
    """"val_dice": the mean Dice (MONAI `compute_dice`) of the lesion over the cases of `data` that have one,
    measured in the model's input grid against their preprocessed masks.

    Example:
        >>> dice_validation(cache.subset(rows, pipes.eval), settings, (16, 16, 16), 0.25).measure(model)  # doctest: +SKIP
        0.64
    """
    truths = [torch.as_tensor(np.asarray(case["mask"])[0] > 0) for case in data]  # they never change: read once

    def mean_dice(model: nn.Module) -> float:
        maps = predict_lesion_probabilities(model, data, settings, window, overlap)
        dice = [compute_dice(torch.as_tensor(m > 0.5)[None, None], t[None, None], ignore_empty=True).item()
                for m, t in zip(maps, truths)]
        return float(np.nanmean(dice)) if not np.isnan(dice).all() else float("nan")

    return Validation("val_dice", mean_dice)


def score_cases(table: CaseTable, rows: np.ndarray, maps: Sequence[np.ndarray],
                grid: InputGrid | None = None) -> pd.DataFrame:
    """Dice and HD95 of each predicted lesion probability map against its case's mask file: the probabilities are
    brought back to the mask's own voxel grid (linear interpolation, through `grid`, how the inputs were made;
    default: resized) and thresholded at 0.5 there, as nnU-Net resamples its softmax; label maps (nearest
    neighbour) a coarser grid would erase lesions of a few voxels (on benchmarks/brain_phantom.py, masks taken to
    1.5x1.5x2.5 mm and back keep a mean Dice of 0.59). HD95 in the mask's units (mm).

    Returns case_id, patient_id, dice, hd95, true_voxels, pred_voxels (the last two show false positives on
    cases without a lesion, where Dice and HD95 are undefined).

    Example:
        >>> maps = predict_lesion_probabilities(model, val_ds, settings, (16, 16, 16))  # doctest: +SKIP
        >>> score_cases(table, np.arange(2), maps)  # doctest: +SKIP
    """
    cases = table.df.iloc[rows]
    preds, truths, spacings = [], [], []
    for pred, mask_path in zip(maps, cases["mask"]):
        truth = read_image(mask_path)
        preds.append(resize_to_image(pred.astype(np.float32), truth, grid) > 0.5)
        truths.append(truth.array > 0)
        spacings.append(truth.spacing)
    scores = segmentation_metrics(preds, truths, spacings, case_ids=cases["case_id"].tolist(),
                                  patient_ids=cases["patient_id"].tolist())
    scores["true_voxels"] = [int(t.sum()) for t in truths]
    scores["pred_voxels"] = [int(p.sum()) for p in preds]
    return scores


class SegmentationTask(Task):
    """Binary lesion segmentation as a `Task`: random patches (or whole volumes) with Dice (+ cross-entropy)
    loss, mean Dice on validation cases after every epoch, Dice and HD95 of every held-out case against its own
    mask, summarised per patient and per case (`medtl.engine.tasks.seg_summary`).

    Example:
        >>> task = SegmentationTask(ExperimentConfig.from_yaml("configs/mri_seg_3d.yaml"), table)  # doctest: +SKIP
        >>> task.num_outputs                                                                       # doctest: +SKIP
        2
    """

    with_mask = True

    def __init__(self, cfg: ExperimentConfig, table: CaseTable):
        super().__init__(cfg, table)
        self.seg = SegSettings.from_config(cfg, self.pipes.input_size)
        self.window = self.seg.window(self.pipes.input_size)
        self.train_pipe = training_pipeline(self.pipes, self.seg)

    @property
    def num_outputs(self) -> int:
        return SEG_CLASSES

    def make_items(self) -> list[dict[str, Any]]:
        return case_items(self.table, self.table.classes, with_mask=True)

    def objective(self, rows: np.ndarray) -> Objective:
        return Objective(criterion=segmentation_loss(self.seg.loss), target_key="mask")

    def training_data(self, cache: CaseCache, rows: np.ndarray) -> Dataset:
        return cache.subset(rows, self.train_pipe)

    def validation(self, cache: CaseCache, rows: np.ndarray) -> Validation:
        return dice_validation(cache.subset(rows, self.pipes.eval), self.settings, self.window, self.seg.overlap)

    @contextmanager
    def fitting(self) -> Iterator[None]:
        with warnings.catch_warnings():
            # A case without a lesion has no foreground to centre a patch on; MONAI then says so and takes
            # background patches, which is what such cases should give.
            warnings.filterwarnings("ignore", message="Num foregrounds 0", category=UserWarning)
            yield

    def predict(self, model: nn.Module, cache: CaseCache, rows: np.ndarray, fold: int) -> pd.DataFrame:
        maps = predict_lesion_probabilities(model, cache.subset(rows, self.pipes.eval), self.settings, self.window,
                                            self.seg.overlap)
        frame = score_cases(self.table, rows, maps, self.pipes.grid)
        frame.insert(2, "fold", fold)
        return frame

    def summarize(self, oof: pd.DataFrame) -> dict[str, Any]:
        return seg_cv_summary(oof, seed=self.cfg["seed"])

    def format_summary(self, summary: dict[str, Any]) -> str:
        return format_seg_summary(summary)
