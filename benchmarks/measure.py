"""Timing and reporting shared by every benchmark: interleaved timeit-style medians and goal-checked ratios."""
from __future__ import annotations

import logging
import os
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Ratio:
    """One measured ratio next to its goal; `higher_is_better` says which way the goal points. A ratio shown
    for context has no goal (`goal=None`) and the verdict "info".

    Example:
        >>> Ratio("cache vs LoadImage", 24.0, goal=20.0, higher_is_better=True).verdict
        'PASS'
        >>> Ratio("epoch time", 0.5, goal=1 / 3, higher_is_better=False).goal_text
        '<= 0.333 (1/3)'
    """

    name: str
    value: float
    goal: float | None
    higher_is_better: bool

    @property
    def passed(self) -> bool:
        if self.goal is None:
            return True
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return "info"
        return "PASS" if self.passed else "MISS"

    @property
    def value_text(self) -> str:
        return fraction_text(self.value)

    @property
    def goal_text(self) -> str:
        if self.goal is None:
            return "none"
        return f"{'>=' if self.higher_is_better else '<='} {fraction_text(self.goal)}"

    def line(self) -> str:
        """The ratio as one printed line: name, value, goal, verdict."""
        return f"  {self.name:<58} {self.value_text:>18}   goal {self.goal_text:<16} {self.verdict}"


def markdown_table(ratios: list[Ratio]) -> str:
    """The results as a Markdown table (the layout of benchmarks/RESULTS.md).

    Example:
        >>> print(markdown_table([Ratio("x", 4.0, 3.0, True)]).splitlines()[2])
        | x | 4x | >= 3x | PASS |
    """
    lines = ["| ratio | measured | goal | verdict |", "|---|---|---|---|"]
    lines += [f"| {r.name} | {r.value_text} | {r.goal_text} | {r.verdict} |" for r in ratios]
    return "\n".join(lines)


def print_verdict(ratios: list[Ratio], started: float) -> None:
    """The ratios as a Markdown table, then how many goals were met and in how long (`started`: perf_counter).

    Example:
        >>> print_verdict([], time.perf_counter())  # doctest: +ELLIPSIS
        <BLANKLINE>
        ...
        0/0 goals met in 0 s; ...
    """
    print(f"\n{markdown_table(ratios)}\n")
    goals = [r for r in ratios if r.goal is not None]
    print(f"{sum(r.passed for r in goals)}/{len(goals)} goals met in {time.perf_counter() - started:.0f} s; "
          f"{machine_load()}")


def fraction_text(value: float) -> str:
    """A ratio for people: `3.2x` above 1, `0.04 (1/25)` below.

    Example:
        >>> fraction_text(3.21), fraction_text(0.04)
        ('3.21x', '0.04 (1/25)')
    """
    if value >= 1.0:
        return f"{value:.3g}x"
    return f"{value:.3g} (1/{1.0 / value:.3g})" if value > 0 else "0"


@dataclass(frozen=True)
class Timed:
    """What a candidate returns to report its own time instead of its wall time: for work that needs a one-time
    setup that is not what is measured (e.g. the second epoch of a training run, whose first epoch and
    optimizer creation come once per run).

    Example:
        >>> interleaved_medians({"second half": lambda: Timed(0.25)}, repeats=1)
        {'second half': 0.25}
    """

    seconds: float


def interleaved_medians(candidates: dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median seconds of each callable, its wall time unless it returns `Timed`: `warmup` untimed calls each,
    then `repeats` timed rounds in which every candidate runs once in turn, so a machine that gets busier or
    quieter affects all of them alike.

    Example:
        >>> times = interleaved_medians({"a": lambda: sum(range(100)), "b": lambda: None}, repeats=3)
        >>> sorted(times), all(t >= 0 for t in times.values())
        (['a', 'b'], True)
    """
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            result = fn()
            wall = time.perf_counter() - start
            samples[name].append(result.seconds if isinstance(result, Timed) else wall)
    return {name: statistics.median(values) for name, values in samples.items()}


def machine_load() -> str:
    """Load average and core count, printed next to results (other processes skew CPU timings).

    Example:
        >>> "cores" in machine_load()
        True
    """
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


def quiet_library_notices() -> None:
    """Hide library deprecation warnings and MONAI's note about its optional GPU DICOM decoder, so the
    benchmark output stays readable."""
    for category in (UserWarning, FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    logging.getLogger("monai.data.nvimgcodec_pydicom_plugin").setLevel(logging.ERROR)


def heading(title: str) -> None:
    """Print a benchmark's title line."""
    print(f"\n== {title}", flush=True)
