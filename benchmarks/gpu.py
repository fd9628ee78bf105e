"""`python -m benchmarks.gpu [--dry-run] [--workers N]`: medtl training on one CUDA GPU, ResNet-18 at 224^2 and
resnet18_3d at 96^3.

For each backbone it prints: medtl's training images/s (`medtl.engine.training.loop.train`, which picks bf16 autocast on
GPUs that support it) against a plain fp32 eager loop on the same in-memory synthetic batches; the share of the
GPU's dense bf16 peak that medtl's rate reaches (FLOPs = 3 x forward conv MACs x 2); and the step time with
medtl's real loader (generated X-rays / MRI, in-memory case cache, augmentation, `--workers` processes) against
the same steps on batches already on the GPU. `--dry-run` runs the same code on the CPU at tiny sizes, to check
the script where no GPU is present; its numbers measure nothing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from benchmarks.cohorts import Cohort, engine_config
from benchmarks.measure import Ratio, heading, markdown_table, quiet_library_notices
from medtl.engine.training.loop import train
from medtl.engine.training.recipe.settings import TrainSettings, autocast_for
from medtl.engine.training.setup import Pipelines, case_cache
from medtl.models import conv_macs, create_model

# Dense bf16 tensor-core peaks from the vendors' data sheets; the first name found in the device name applies.
PEAK_BF16_TFLOPS = (("H100 PCIe", 756.0), ("H100", 989.0), ("H200", 989.0), ("A100", 312.0))
EPOCHS = 4  # the first warms up (cuDNN algorithm search, allocator); the median of the others is reported
PRECISION_GOAL = 2.5
PEAK_GOAL = 0.15  # for the 2D workload; a 3D ResNet at batch 8 has no goal
LOADER_GOAL = 1.1
Batches = Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]]


@dataclass(frozen=True)
class Workload:
    """One backbone at one input size: `synthetic` random images for the throughput runs, `patients` generated
    cases (two X-rays, or one MRI volume, each) for the real-loader run.

    Example:
        >>> Workload("resnet18", (32, 32), batch=4, synthetic=16, patients=4).spatial_dims
        2
    """

    backbone: str
    size: tuple[int, ...]
    batch: int
    synthetic: int
    patients: int

    @property
    def spatial_dims(self) -> int:
        return len(self.size)

    def cohort(self, folder: Path) -> Cohort:
        """Generated cases at this input size: X-rays for a 2D backbone, MRI volumes for a 3D one."""
        if self.spatial_dims == 2:
            return Cohort.xray(folder, patients=self.patients, size=max(self.size))
        return Cohort.mri(folder, patients=self.patients, shape=self.size)


FULL = (Workload("resnet18", (224, 224), batch=64, synthetic=2048, patients=256),
        Workload("resnet18_3d", (96, 96, 96), batch=8, synthetic=256, patients=64))
DRY = (Workload("resnet18", (32, 32), batch=2, synthetic=2, patients=2),
       Workload("resnet18_3d", (16, 16, 16), batch=2, synthetic=2, patients=2))


def bf16_peak_tflops(device_name: str) -> float | None:
    """The device's dense bf16 peak in TFLOPS, or None when the table does not know it.

    Example:
        >>> bf16_peak_tflops("NVIDIA H100 80GB HBM3"), bf16_peak_tflops("Tesla T4")
        (989.0, None)
    """
    return next((peak for name, peak in PEAK_BF16_TFLOPS if name in device_name), None)


def training_flops(workload: Workload) -> float:
    """Estimated FLOPs to train on one image: forward + backward = 3 x forward convolution MACs x 2.

    Example:
        >>> training_flops(Workload("resnet18", (32, 32), batch=4, synthetic=16, patients=4)) > 0
        True
    """
    with torch.device("meta"):
        model = create_model(workload.backbone, in_chans=1, num_classes=2)
    return 3.0 * 2.0 * conv_macs(model, (1, 1, *workload.size))


def loop_images_per_s(model: nn.Module, batches: Batches, device: torch.device,
                      precision: Callable[[], AbstractContextManager]) -> float:
    """Images/s of a plain eager training loop (AdamW, cross-entropy, loss read every step as tutorials do),
    median over the epochs after the first.

    Example:
        >>> loop_images_per_s(model, lambda: [(x, y)] * 8, torch.device("cpu"), nullcontext)  # doctest: +SKIP
    """
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    rates = []
    for _ in range(EPOCHS):
        start, seen = time.perf_counter(), 0
        for x, y in batches():
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with precision():
                loss = criterion(model(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()
            seen += len(y)
        rates.append(seen / (time.perf_counter() - start))
    return statistics.median(rates[1:])


def medtl_images_per_s(model: nn.Module, data: Dataset | Sequence[dict[str, Any]], settings: TrainSettings) -> float:
    """Images/s of `medtl.engine.training.loop.train` on `data`, median over the epochs after the first.

    Example:
        >>> medtl_images_per_s(model, cases, TrainSettings(epochs=3, device="cpu"))  # doctest: +SKIP
    """
    history = train(model, data, settings, head=model.spec.classifier, progress=False)
    return float(history["images_per_s"].iloc[1:].median())


def compiled_images_per_s(workload: Workload, cases: Sequence[dict[str, Any]], settings: TrainSettings) -> str:
    """`medtl_images_per_s` with `train.compile` on, as text; a compiler failure is reported, not raised, so the
    rest of the run still measures.

    Example:
        >>> compiled_images_per_s(DRY[0], cases, TrainSettings(epochs=3, device="cpu"))  # doctest: +SKIP
        '   1234.5 images/s'
    """
    try:
        rate = medtl_images_per_s(_fresh_model(workload), cases, replace(settings, compile=True))
    except Exception as error:  # noqa: BLE001 - any compiler error is a result here
        return f"failed: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
    return f"{rate:9.1f} images/s"


def _fresh_model(workload: Workload) -> nn.Module:
    torch.manual_seed(0)
    return create_model(workload.backbone, in_chans=1, num_classes=2)


def measure(workload: Workload, device: torch.device, workers: int, workdir: Path) -> list[Ratio]:
    """The three comparisons for one workload; prints the rates it measures.

    Example:
        >>> measure(DRY[0], torch.device("cpu"), 0, Path(tempfile.mkdtemp()))  # doctest: +SKIP
    """
    name, batch = workload.backbone, workload.batch
    heading(f"{name} at {'x'.join(map(str, workload.size))}, batch {batch}, {device}")
    generator = torch.Generator().manual_seed(0)
    cases = [{"image": torch.rand(1, *workload.size, generator=generator), "y": i % 2}
             for i in range(workload.synthetic)]
    settings = TrainSettings(epochs=EPOCHS, batch_size=batch, device=device.type)
    ours = medtl_images_per_s(_fresh_model(workload), cases, settings)
    compiled = compiled_images_per_s(workload, cases, settings)

    def loader_batches() -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
        loader = DataLoader(cases, batch_size=batch, shuffle=True, drop_last=True, pin_memory=device.type == "cuda")
        return ((b["image"], b["y"]) for b in loader)

    plain = loop_images_per_s(_fresh_model(workload), loader_batches, device, nullcontext)
    resident_batch = (torch.rand(batch, 1, *workload.size, device=device), torch.arange(batch, device=device) % 2)
    steps = max(1, workload.synthetic // batch)
    resident = loop_images_per_s(_fresh_model(workload), lambda: [resident_batch] * steps, device,
                                 lambda: autocast_for(device))

    cohort = workload.cohort(workdir / name)
    cfg = engine_config(name, workload.size, device=device.type, num_workers=workers, batch_size=batch, epochs=EPOCHS)
    pipes = Pipelines.from_config(cfg)
    real = case_cache(cfg, cohort.items, pipes, progress=False).subset(np.arange(len(cohort.items)), pipes.train)
    loaded = medtl_images_per_s(_fresh_model(workload), real, TrainSettings.from_config(cfg))

    flops = training_flops(workload)
    print(f"  medtl train, synthetic in memory   {ours:9.1f} images/s  ({flops * ours / 1e12:.1f} TFLOPS achieved)")
    print(f"  medtl train, train.compile=true    {compiled}")
    print(f"  plain fp32 eager loop              {plain:9.1f} images/s")
    print(f"  medtl precision, data on {device.type:<4}      {resident:9.1f} images/s  "
          f"({1000 * batch / resident:.1f} ms/step)")
    print(f"  medtl train, real loader           {loaded:9.1f} images/s  ({1000 * batch / loaded:.1f} ms/step, "
          f"{len(cohort.items)} generated cases, {workers} workers)")
    ratios = [Ratio(f"{name} medtl train vs plain fp32 loop (images/s)", ours / plain, PRECISION_GOAL, True)]
    peak = bf16_peak_tflops(torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu")
    if peak is None:
        print("  share of the bf16 peak: unknown (the device is not in PEAK_BF16_TFLOPS)")
    else:
        ratios.append(Ratio(f"{name} share of the dense bf16 peak", flops * ours / 1e12 / peak,
                            PEAK_GOAL if len(workload.size) == 2 else None, True))
    ratios.append(Ratio(f"{name} step time, real loader / data on the GPU", resident / loaded, LOADER_GOAL, False))
    return ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="run on the CPU at tiny sizes (checks the script)")
    parser.add_argument("--workers", type=int, default=8, help="loader processes for the real-loader run")
    args = parser.parse_args(argv)
    if not args.dry_run and not torch.cuda.is_available():
        print("benchmarks.gpu needs a CUDA GPU, and torch sees none (torch.cuda.is_available() is False). "
              "`python -m benchmarks.gpu --dry-run` runs the same code on the CPU at tiny sizes.", file=sys.stderr)
        return 2
    quiet_library_notices()
    device = torch.device("cpu" if args.dry_run else "cuda")
    workers = 0 if args.dry_run else args.workers
    print("DRY RUN on the CPU at tiny sizes: these numbers check the script and measure nothing." if args.dry_run
          else f"GPU benchmarks on {torch.cuda.get_device_name(device)}, torch {torch.__version__}")
    ratios = []
    with tempfile.TemporaryDirectory(prefix="medtl-bench-gpu-") as workdir:
        for workload in DRY if args.dry_run else FULL:
            ratios += measure(workload, device, workers, Path(workdir))
    for ratio in ratios:
        print(ratio.line())
    print(f"\n{markdown_table(ratios)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
