"""`python -m benchmarks [name ...]` (`make bench`): run the CPU benchmarks in turn and print every ratio next
to its goal, then a Markdown table of them all."""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks import epoch, gradcam, linear_probe, loading, stem3d
from benchmarks.measure import Ratio, machine_load, print_verdict, quiet_library_notices

BENCHMARKS = {"loading": loading, "epoch": epoch, "linear_probe": linear_probe, "gradcam": gradcam, "stem3d": stem3d}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose among {', '.join(BENCHMARKS)}")
    quiet_library_notices()
    start = time.perf_counter()
    print(f"medtl benchmarks, {date.today()}, {machine_load()}")
    ratios: list[Ratio] = []
    for name in args.names or BENCHMARKS:
        with tempfile.TemporaryDirectory(prefix=f"medtl-bench-{name}-") as workdir:
            results = BENCHMARKS[name].run(Path(workdir))
        for ratio in results:
            print(ratio.line())
        ratios += results
    print_verdict(ratios, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
