"""Benchmark 4, Grad-CAM: `medtl.explain.saliency` on a batch of 16 X-rays against the same call image by image,
and against plain inference on the same batch."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from benchmarks.cohorts import Cohort, engine_config
from benchmarks.measure import Ratio, heading, interleaved_medians
from medtl.engine.setup import Pipelines, build_model, case_cache
from medtl.explain import saliency

BATCH = 16
SOURCE_SIZE = 256
INPUT_SIZE = 128
REPEATS = 3
BATCHED_GOAL = 1.25
COST_GOAL = 3.0


def run(workdir: Path) -> list[Ratio]:
    """Time batched and per-image Grad-CAM and inference on one batch; returns the two ratios.

    Example:
        >>> [r.verdict for r in run(Path(tempfile.mkdtemp()))]  # doctest: +SKIP
    """
    heading(f"4. Grad-CAM: resnet18 at {INPUT_SIZE}^2, a batch of {BATCH} X-rays, target layer layer4, "
            f"median of {REPEATS}")
    cohort = Cohort.xray(workdir / "xray", patients=BATCH // 2, size=SOURCE_SIZE)
    cfg = engine_config("resnet18", (INPUT_SIZE, INPUT_SIZE))
    pipes = Pipelines.from_config(cfg)
    cases = case_cache(cfg, cohort.items, pipes, progress=False).subset(np.arange(BATCH), pipes.eval)
    images = torch.stack([torch.as_tensor(cases[i]["image"]) for i in range(BATCH)])
    torch.manual_seed(0)
    model = build_model(cfg, len(cohort.classes)).eval()
    layer = model.spec.target_layer

    def one_at_a_time() -> torch.Tensor:
        return torch.cat([saliency(model, images[i:i + 1], layer) for i in range(BATCH)])

    @torch.no_grad()
    def inference() -> torch.Tensor:
        return model(images)

    difference = float((saliency(model, images, layer) - one_at_a_time()).abs().max())
    print(f"  batched and per-image maps {'agree' if difference < 1e-4 else 'DIFFER'} (max |diff| {difference:.1e})")
    times = interleaved_medians({
        "Grad-CAM, batch of 16": lambda: saliency(model, images, layer),
        "Grad-CAM, one image at a time": one_at_a_time,
        "inference, batch of 16": inference,
    }, repeats=REPEATS)
    for name, seconds in times.items():
        print(f"  {name:<32} {1000 * seconds:8.1f} ms")
    return [
        Ratio("Grad-CAM batched vs one at a time (speed-up)",
              times["Grad-CAM, one image at a time"] / times["Grad-CAM, batch of 16"], BATCHED_GOAL,
              higher_is_better=True),
        Ratio("Grad-CAM / inference, same batch (cost)",
              times["Grad-CAM, batch of 16"] / times["inference, batch of 16"], COST_GOAL, higher_is_better=False),
    ]
