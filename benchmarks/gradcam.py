"""Benchmark 4, Grad-CAM: `medtl.explain.saliency` against plain inference on the same batch, for ResNet-18 on a
batch of 16 X-rays at 224^2 and for resnet18_3d on a batch of 2 MRI volumes at 96^3; and the batched call against
the same call image by image, for ResNet-18 on the 16 X-rays at 128^2."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from benchmarks.cohorts import Cohort, engine_config
from benchmarks.measure import Ratio, heading, interleaved_medians
from medtl.engine.training.setup import Pipelines, build_model, case_cache
from medtl.explain import saliency

BATCH_2D = 16
SOURCE_SIZE = 256
BATCHED_SIZE_2D = 128
INPUT_SIZE_2D = 224
BATCH_3D = 2
INPUT_SIZE_3D = 96
REPEATS = 3
BATCHED_GOAL = 1.25
COST_GOAL = 3.0


def model_and_batch(cohort: Cohort, backbone: str, input_size: tuple[int, ...], batch: int
                    ) -> tuple[nn.Module, torch.Tensor]:
    """A randomly initialised `backbone` in eval mode and `batch` of the cohort's images through medtl's eval
    pipeline (read, scale, resize, normalise).

    Example:
        >>> model, images = model_and_batch(cohort, "resnet18", (224, 224), 16)  # doctest: +SKIP
        >>> images.shape                                                          # doctest: +SKIP
        torch.Size([16, 1, 224, 224])
    """
    cfg = engine_config(backbone, input_size)
    pipes = Pipelines.from_config(cfg)
    cases = case_cache(cfg, cohort.items, pipes, progress=False).subset(np.arange(batch), pipes.eval)
    images = torch.stack([torch.as_tensor(cases[i]["image"]) for i in range(batch)])
    torch.manual_seed(0)
    return build_model(cfg, len(cohort.classes)).eval(), images


def cost_ratio(label: str, model: nn.Module, images: torch.Tensor) -> dict[str, float]:
    """Median seconds of Grad-CAM and of inference on the same batch, interleaved.

    Example:
        >>> cost_ratio("2D", model, images)["inference"]  # doctest: +SKIP
        0.41
    """
    layer = model.spec.target_layer

    @torch.no_grad()
    def inference() -> torch.Tensor:
        return model(images)

    times = interleaved_medians({"Grad-CAM": lambda: saliency(model, images, layer), "inference": inference},
                                repeats=REPEATS)
    for name, seconds in times.items():
        print(f"  {label} {name:<32} {1000 * seconds:8.1f} ms")
    return times


def run(workdir: Path) -> list[Ratio]:
    """Time Grad-CAM batched and one by one, and against inference in 2D and 3D; returns the three ratios.

    Example:
        >>> [r.verdict for r in run(Path(tempfile.mkdtemp()))]  # doctest: +SKIP
    """
    heading(f"4. Grad-CAM, target layer layer4: resnet18 at {INPUT_SIZE_2D}^2 (cost) and {BATCHED_SIZE_2D}^2 (batched "
            f"vs one by one) on {BATCH_2D} X-rays, resnet18_3d at {INPUT_SIZE_3D}^3 on {BATCH_3D} MRI volumes, "
            f"median of {REPEATS}")
    xrays = Cohort.xray(workdir / "xray", patients=BATCH_2D // 2, size=SOURCE_SIZE)
    model, images = model_and_batch(xrays, "resnet18", (BATCHED_SIZE_2D,) * 2, BATCH_2D)
    layer = model.spec.target_layer

    def one_at_a_time() -> torch.Tensor:
        return torch.cat([saliency(model, images[i:i + 1], layer) for i in range(BATCH_2D)])

    difference = float((saliency(model, images, layer) - one_at_a_time()).abs().max())
    print(f"  batched and per-image maps {'agree' if difference < 1e-4 else 'DIFFER'} (max |diff| {difference:.1e})")
    batched = interleaved_medians({"batch": lambda: saliency(model, images, layer), "one by one": one_at_a_time},
                                  repeats=REPEATS)
    print(f"  {BATCHED_SIZE_2D}^2 Grad-CAM, batch of {BATCH_2D} {1000 * batched['batch']:8.1f} ms, one image at a "
          f"time {1000 * batched['one by one']:8.1f} ms")
    times_2d = cost_ratio(f"{INPUT_SIZE_2D}^2", *model_and_batch(xrays, "resnet18", (INPUT_SIZE_2D,) * 2, BATCH_2D))

    mri = Cohort.mri(workdir / "mri", patients=BATCH_3D, shape=(INPUT_SIZE_3D,) * 3)
    times_3d = cost_ratio(f"{INPUT_SIZE_3D}^3", *model_and_batch(mri, "resnet18_3d", (INPUT_SIZE_3D,) * 3, BATCH_3D))
    return [
        Ratio(f"Grad-CAM batched vs one at a time, resnet18 {BATCHED_SIZE_2D}^2 (speed-up)",
              batched["one by one"] / batched["batch"], BATCHED_GOAL, higher_is_better=True),
        Ratio(f"Grad-CAM / inference, resnet18 {INPUT_SIZE_2D}^2 batch {BATCH_2D} (cost)",
              times_2d["Grad-CAM"] / times_2d["inference"], COST_GOAL, higher_is_better=False),
        Ratio(f"Grad-CAM / inference, resnet18_3d {INPUT_SIZE_3D}^3 batch {BATCH_3D} (cost)",
              times_3d["Grad-CAM"] / times_3d["inference"], COST_GOAL, higher_is_better=False),
    ]
