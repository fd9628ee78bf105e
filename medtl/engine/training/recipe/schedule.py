"""Learning-rate schedules as a factor of the peak learning rate at each optimizer step.

A factor function (rather than a torch scheduler object) serves every loop: the factor of any step follows
from the step number alone, so a resumed run and a changed optimizer (a new strategy phase) continue the same
curve without scheduler state.
"""
from __future__ import annotations

import math

SCHEDULES = ("cosine", "onecycle", "constant")
COSINE_FLOOR = 0.01
# torch.optim.lr_scheduler.OneCycleLR's defaults
ONECYCLE_PCT_START, ONECYCLE_DIV, ONECYCLE_FINAL_DIV = 0.3, 25.0, 1e4


def lr_factor(step: int, total: int, warmup: int, schedule: str = "cosine") -> float:
    """The learning rate of 0-based `step` out of `total`, as a factor of the peak, after `warmup` steps.

    - cosine: linear warm-up, then cosine decay to 1% of the peak.
    - constant: linear warm-up, then the peak.
    - onecycle: `torch.optim.lr_scheduler.OneCycleLR` (cosine annealing, div_factor 25, final_div_factor 1e4);
      the warm-up steps are its rising part (pct_start), 30% of the steps without warm-up.

    Example:
        >>> [round(lr_factor(s, 10, 2), 2) for s in (0, 1, 2, 9)]
        [0.5, 1.0, 1.0, 0.05]
        >>> [round(lr_factor(s, 10, 0, "onecycle"), 3) for s in (0, 2, 9)]
        [0.04, 1.0, 0.0]
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"train.schedule must be one of {list(SCHEDULES)}. Got {schedule!r} instead.")
    if schedule == "onecycle":
        return _one_cycle(step, total, warmup / total if warmup else ONECYCLE_PCT_START)
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = (step - warmup) / max(1, total - warmup)
    return COSINE_FLOOR + (1.0 - COSINE_FLOOR) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _one_cycle(step: int, total: int, pct_start: float) -> float:
    """OneCycleLR's two-phase rule (`three_phase=False`, `anneal_strategy="cos"`), divided by max_lr."""
    start, peak = 1.0 / ONECYCLE_DIV, 1.0
    end = start / ONECYCLE_FINAL_DIV
    rise_end, fall_end = float(pct_start * total) - 1, float(total - 1)
    if 0 < rise_end and step <= rise_end:
        return _cos_anneal(start, peak, step / rise_end)
    return _cos_anneal(peak, end, (step - rise_end) / max(fall_end - rise_end, 1e-12))


def _cos_anneal(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * min(pct, 1.0)) + 1)
