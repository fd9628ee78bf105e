"""The losses of an epoch's training steps, read back from the device in groups.

Reading a loss (`loss.item()`) makes the CPU wait until the GPU has finished the step, so the GPU then idles
while Python launches the next one; reading every `sync_every` steps lets the launches run ahead. On a CPU the
value is there at once and every step is read.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from medtl.errors import NonFiniteLossError

# Steps between reads of the losses, by device type; 1 for any other device.
SYNC_EVERY = {"cuda": 16}


@dataclass
class StepLosses:
    """The losses of one epoch's steps; `add` returns the steps it read, as (step, loss, lr), and raises
    `NonFiniteLossError` naming the epoch and batch of the first loss that is not finite.

    Example:
        >>> losses = StepLosses(desc="fold 1/5", epoch=1, lr_hint=1e-3, sync_every=1)
        >>> losses.add(torch.tensor(0.5), images=8, batch=1, step=0, lr=1e-3), losses.mean
        ([(0, 0.5, 0.001)], 0.5)
    """

    desc: str
    epoch: int
    lr_hint: float
    sync_every: int = 1
    total: float = 0.0
    images: int = 0
    _pending: list[tuple[torch.Tensor, int, int, int, float]] = field(default_factory=list)

    @classmethod
    def for_device(cls, device: torch.device, desc: str, epoch: int, lr_hint: float) -> "StepLosses":
        """Read every step on the CPU, every `SYNC_EVERY[device.type]` steps elsewhere.

        Example:
            >>> StepLosses.for_device(torch.device("cuda"), "train", 1, 1e-3).sync_every
            16
        """
        return cls(desc, epoch, lr_hint, SYNC_EVERY.get(device.type, 1))

    def add(self, loss: torch.Tensor, images: int, batch: int, step: int, lr: float) -> list[tuple[int, float, float]]:
        """Record the loss of `batch` (1-based in the epoch; a mean over `images`), taken at run `step` with `lr`;
        read the pending ones when `sync_every` are waiting."""
        self._pending.append((loss.detach(), images, batch, step, lr))
        return self.read() if len(self._pending) >= self.sync_every else []

    def read(self) -> list[tuple[int, float, float]]:
        """Read every pending loss in one transfer and check that each is finite."""
        if not self._pending:
            return []
        values = torch.stack([loss.float() for loss, *_ in self._pending]).tolist()
        read = []
        for (_, images, batch, step, lr), value in zip(self._pending, values):
            if not math.isfinite(value):
                raise NonFiniteLossError(
                    f"{self.desc}: loss became {value} at epoch {self.epoch}, batch {batch}; "
                    f"lower train.lr (now {self.lr_hint}) or check the input intensities"
                )
            self.total += value * images
            self.images += images
            read.append((step, value, lr))
        self._pending.clear()
        return read

    @property
    def mean(self) -> float:
        """The mean loss per image over the steps read so far."""
        return self.total / max(self.images, 1)
