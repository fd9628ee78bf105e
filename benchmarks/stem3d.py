"""Benchmark 5, the 3D ResNet stem: convolution MACs (`medtl.models.conv_macs`) and one training step (`train`)
of resnet18_3d with medtl's default stem="stride2" (MedicalNet's) against MONAI's stem="monai", on a 96^3 MRI."""
from __future__ import annotations

from pathlib import Path

import torch

from benchmarks.measure import Ratio, heading, interleaved_medians
from medtl.engine.training.loop import train
from medtl.engine.training.recipe.settings import TrainSettings
from medtl.io import read_image
from medtl.models import conv_macs, create_model
from medtl.synth import make_mri

BACKBONE = "resnet18_3d"
SIZE = 96
BATCH = 1
REPEATS = 2
MACS_GOAL = 1 / 8
STEMS = ("stride2", "monai")


def forward_macs(stem: str, size: int) -> int:
    """Convolution MACs of one forward pass of a `size`^3 single-channel volume, counted on the meta device.

    Example:
        >>> forward_macs("stride2", 32) < forward_macs("monai", 32)
        True
    """
    with torch.device("meta"):
        model = create_model(BACKBONE, in_chans=1, num_classes=2, stem=stem)
    return conv_macs(model, (1, 1, size, size, size))


def run(workdir: Path) -> list[Ratio]:
    """Count MACs and time one `train` step per stem; returns the MACs ratio and, for context, the step ratio.

    Example:
        >>> run(Path(tempfile.mkdtemp()))[0].verdict  # doctest: +SKIP
        'PASS'
    """
    heading(f"5. 3D stem: {BACKBONE} stride2 vs monai at {SIZE}^3, train step of batch {BATCH}, median of {REPEATS}")
    root = make_mri(workdir / "mri", patients=2, shape=(SIZE,) * 3, spacing=(2.0,) * 3, volumes_per_patient=(1, 1))
    volume = torch.as_tensor(read_image(next((root / "imagesTr").glob("*.nii.gz"))).array)
    item = {"image": ((volume - volume.mean()) / volume.std())[None], "y": 1}
    settings = TrainSettings(epochs=1, batch_size=BATCH, device="cpu")
    macs, steps = {}, {}
    for stem in STEMS:
        macs[stem] = forward_macs(stem, SIZE)
        torch.manual_seed(0)
        model = create_model(BACKBONE, in_chans=1, num_classes=2, stem=stem)
        steps[stem] = lambda model=model: train(model, [item] * BATCH, settings, head="fc", progress=False)
    times = interleaved_medians(steps, repeats=REPEATS)
    for stem in STEMS:
        print(f"  stem={stem:<8} {macs[stem] / 1e9:7.1f} GMACs forward   {times[stem]:6.2f} s per train step")
    return [
        Ratio(f"{BACKBONE} conv MACs, stride2 / monai stem", macs["stride2"] / macs["monai"], MACS_GOAL,
              higher_is_better=False),
        Ratio(f"{BACKBONE} train step time, stride2 / monai stem", times["stride2"] / times["monai"], None,
              higher_is_better=False),
    ]
