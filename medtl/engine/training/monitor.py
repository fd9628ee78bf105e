"""What a training loop shows while it runs: the progress bar's numbers and, optionally, TensorBoard scalars."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from medtl.engine.training.distributed import is_main_process
from medtl.errors import MissingExtraError

TENSORBOARD_HINT = ("train.tensorboard: true needs the tensorboard package; install it with "
                    "pip install 'medtl[tensorboard]' (or pip install tensorboard), or set train.tensorboard: false")


def open_summary_writer(log_dir: Path) -> Any:
    """A `torch.utils.tensorboard.SummaryWriter` writing event files into `log_dir`; a `MissingExtraError`
    when the tensorboard package is missing.

    Example:
        >>> writer = open_summary_writer(Path("runs/exp/tensorboard/fold_0"))  # doctest: +SKIP
    """
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        raise MissingExtraError(TENSORBOARD_HINT) from err
    return SummaryWriter(log_dir=str(log_dir))


class TrainingMonitor:
    """Reports one training run: loss, learning rate, throughput and the last validation metric on the tqdm
    bar of each epoch, and the same numbers to TensorBoard when `log_dir` is given (per step: train/loss and
    train/lr; per epoch: epoch/<column> for every history column).

    Example:
        >>> monitor = TrainingMonitor(log_dir=None)
        >>> monitor.epoch({"epoch": 1, "loss": 0.7, "val_auc": 0.8})
        >>> monitor.postfix(loss=0.5, lr=1e-3, images_per_s=120.0)
        {'loss': '0.500', 'lr': '1.0e-03', 'img/s': '120', 'val_auc': '0.800'}
    """

    def __init__(self, log_dir: Path | None):
        self.writer = open_summary_writer(log_dir) if log_dir is not None else None
        self.last_validation: tuple[str, float] | None = None

    @classmethod
    def create(cls, tensorboard: bool, log_dir: Path | None) -> "TrainingMonitor":
        """The monitor of a run configured with `train.tensorboard: <tensorboard>`; only the main process logs.

        Example:
            >>> TrainingMonitor.create(False, None).writer is None
            True
        """
        if not tensorboard or not is_main_process():
            return cls(None)
        if log_dir is None:
            raise ValueError("train.tensorboard: true needs a folder for its event files; pass log_dir "
                             "(medtl cv and medtl train use <run>/tensorboard/)")
        return cls(log_dir)

    def postfix(self, loss: float, lr: float, images_per_s: float) -> dict[str, str]:
        """The numbers shown next to the progress bar."""
        shown = {"loss": f"{loss:.3f}", "lr": f"{lr:.1e}", "img/s": f"{images_per_s:.0f}"}
        if self.last_validation is not None:
            name, value = self.last_validation
            shown[name] = f"{value:.3f}"
        return shown

    def step(self, bar: tqdm, step: int, loss: float, lr: float, images_per_s: float) -> None:
        """Report one optimizer step (0-based `step` over the whole run)."""
        bar.set_postfix(self.postfix(loss, lr, images_per_s))
        if self.writer is not None:
            self.writer.add_scalar("train/loss", loss, step)
            self.writer.add_scalar("train/lr", lr, step)

    def epoch(self, row: dict[str, float]) -> None:
        """Report a finished epoch's history row."""
        validation = [(k, v) for k, v in row.items() if k.startswith("val_")]
        if validation:
            self.last_validation = validation[-1]
        if self.writer is not None:
            for key, value in row.items():
                if key != "epoch":
                    self.writer.add_scalar(f"epoch/{key}", value, int(row["epoch"]))
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
