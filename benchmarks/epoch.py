"""Benchmark 2, one training epoch: medtl's engine (cases preprocessed once into the in-memory cache, then
`train`) against the MONAI tutorial loop (Dataset(LoadImaged, ScaleIntensityd, Resized, augmentation) +
DataLoader + fp32 steps), same ResNet-18, same X-rays, same augmentation, same batch size and workers.
A steady-state epoch is one after the first: for medtl, the second epoch of a two-epoch `train` run (the time
its history records, without the optimizer's creation and first allocation); for the tutorial loop, an epoch
of a loop whose optimizer lives on from earlier epochs.
"""
from __future__ import annotations

import copy
from dataclasses import replace
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from monai import transforms as T
from monai.data import DataLoader, Dataset
from torch import nn

from benchmarks.cohorts import Cohort, engine_config
from benchmarks.measure import Ratio, Timed, heading, interleaved_medians
from medtl.engine.pipeline import transforms as mt
from medtl.engine.training.loop import train, training_loader
from medtl.engine.training.recipe.settings import TrainSettings, cpu_supports_bf16
from medtl.engine.training.setup import Pipelines, build_model, case_cache

PATIENTS = 40  # two images each
# The rendered X-rays, and the same X-rays at 1024^2, the size of ChestX-ray14's PNGs and below most detectors'
# DICOMs (MIMIC-CXR's are about 3000^2): how much the tutorial loop spends decoding depends on it.
SOURCE_SIZES = (256, 1024)
INPUT_SIZE = 64
BATCH = 16
REPEATS = 3
STEADY_GOAL = 1 / 3
FIRST_GOAL = 1.5


def tutorial_dataset(paths: list[str], labels: list[int], input_size: int) -> Dataset:
    """The MONAI tutorial pipeline: decode, scale and resize every image on every epoch, then augment (the
    augmentation is medtl's, so both sides do the same random work).

    Example:
        >>> tutorial_dataset(["a.dcm"], [0], 64)[0]["image"].shape  # doctest: +SKIP
        torch.Size([1, 64, 64])
    """
    transforms = T.Compose([
        T.LoadImaged(keys="image", image_only=True),
        T.EnsureChannelFirstd(keys="image"),
        T.ScaleIntensityd(keys="image"),
        T.Resized(keys="image", spatial_size=(input_size, input_size)),
        *mt.augment(spatial_dims=2, with_mask=False).transforms,
        T.EnsureTyped(keys="image", track_meta=False),
    ])
    return Dataset([{"image": p, "label": y} for p, y in zip(paths, labels)], transforms)


def fp32_epoch(model: nn.Module, batches: Iterable[dict], optimizer: torch.optim.Optimizer) -> float:
    """One plain fp32 epoch as MONAI's tutorials write it; returns the mean loss.

    Example:
        >>> fp32_epoch(model, DataLoader(ds, batch_size=16), torch.optim.Adam(model.parameters()))  # doctest: +SKIP
        0.69
    """
    loss_function = nn.CrossEntropyLoss()
    model.train()
    losses = []
    for batch in batches:
        optimizer.zero_grad()
        loss = loss_function(model(batch["image"]), batch["label"])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))


def run(workdir: Path) -> list[Ratio]:
    """Time first (cache-building) and steady-state epochs of both, on the X-rays at each of `SOURCE_SIZES`;
    returns their ratios and, for context, the share of the tutorial epoch that the model's own steps take and
    the two loaders' times without a model.

    Example:
        >>> [r.name for r in run(Path(tempfile.mkdtemp()))]  # doctest: +SKIP
    """
    rendered = Cohort.xray(workdir / "xray", patients=PATIENTS, size=SOURCE_SIZES[0])
    ratios = []
    for size in SOURCE_SIZES:
        upscaled = size != SOURCE_SIZES[0]
        cohort = Cohort.upscaled(workdir / "xray", workdir / f"xray{size}", size) if upscaled else rendered
        ratios += _compare(cohort, size)
    return ratios


def _compare(cohort: Cohort, source_size: int) -> list[Ratio]:
    heading(f"2. training epoch: resnet18 at {INPUT_SIZE}^2, {PATIENTS * 2} DICOM X-rays of {source_size}^2, "
            f"batch {BATCH}, 0 workers, median of {REPEATS}")
    cfg = engine_config("resnet18", (INPUT_SIZE, INPUT_SIZE), epochs=1, batch_size=BATCH)
    settings = TrainSettings.from_config(cfg)
    pipes = Pipelines.from_config(cfg)
    rows = np.arange(len(cohort.items))
    model = build_model(cfg, len(cohort.classes))
    baseline_model = copy.deepcopy(model)
    baseline_optimizer = torch.optim.Adam(baseline_model.parameters(), lr=1e-3)
    baseline_data = tutorial_dataset(cohort.paths, cohort.labels, INPUT_SIZE)
    cache = case_cache(cfg, cohort.items, pipes, progress=False)
    two_epochs = replace(settings, epochs=2)
    bf16 = replace(two_epochs, precision="bf16") if cpu_supports_bf16() else None

    def medtl_first_epoch() -> None:
        fresh = case_cache(cfg, cohort.items, pipes, progress=False)
        train(model, fresh.subset(rows, pipes.train), settings, head="fc", progress=False)

    steady = cache.subset(rows, pipes.train)

    def second_epoch(run_settings: TrainSettings) -> Timed:
        """The second epoch of a two-epoch run: what every epoch after the first costs."""
        history = train(model, steady, run_settings, head="fc", progress=False)
        return Timed(float(history["seconds"].iloc[-1]))

    images = torch.stack([torch.as_tensor(steady[i]["image"]) for i in rows])
    labels = torch.as_tensor(cohort.labels)
    in_memory = [{"image": images[i:i + BATCH], "label": labels[i:i + BATCH]}
                 for i in range(0, len(rows) - BATCH + 1, BATCH)]
    def tutorial_loader() -> DataLoader:
        return DataLoader(baseline_data, batch_size=BATCH, shuffle=True, drop_last=True)

    candidates = {
        "MONAI tutorial epoch": lambda: fp32_epoch(baseline_model, tutorial_loader(), baseline_optimizer),
        "medtl first epoch (builds the cache)": medtl_first_epoch,
        "medtl steady-state epoch": lambda: second_epoch(two_epochs),
        # What no loader can beat: the same steps on tensors already stacked in memory.
        "model steps alone": lambda: fp32_epoch(baseline_model, in_memory, baseline_optimizer),
        # The data side alone: every batch of an epoch, no model.
        "MONAI tutorial loader alone": lambda: list(tutorial_loader()),
        "medtl loader alone": lambda: list(training_loader(steady, settings)),
    }
    if bf16 is not None:  # `precision: auto` is fp32 on a CPU; bf16 is one setting away where the CPU has it
        candidates["medtl steady-state epoch, bf16"] = lambda: second_epoch(bf16)
    times = interleaved_medians(candidates, repeats=REPEATS)
    for name, seconds in times.items():
        print(f"  {name:<40} {seconds:7.2f} s/epoch")
    tutorial, at = times["MONAI tutorial epoch"], f"{source_size}^2 X-rays"
    with_bf16 = [Ratio(f"steady-state epoch with train.precision=bf16, medtl / MONAI tutorial, {at} (time)",
                       times["medtl steady-state epoch, bf16"] / tutorial, STEADY_GOAL, higher_is_better=False)
                 ] if bf16 is not None else []
    return [
        Ratio(f"steady-state epoch, medtl / MONAI tutorial, {at} (time)", times["medtl steady-state epoch"] / tutorial,
              STEADY_GOAL, higher_is_better=False),
        *with_bf16,
        Ratio(f"first epoch incl. cache build, medtl / MONAI tutorial, {at} (time)",
              times["medtl first epoch (builds the cache)"] / tutorial, FIRST_GOAL, higher_is_better=False),
        Ratio(f"floor: model steps alone / MONAI tutorial epoch, {at} (time)", times["model steps alone"] / tutorial,
              None, higher_is_better=False),
        Ratio(f"data side: medtl loader / MONAI tutorial loader, no model, {at} (time)",
              times["medtl loader alone"] / times["MONAI tutorial loader alone"], None, higher_is_better=False),
    ]
