"""`python -m benchmarks.scale [--files N]` (`make bench-scale`): medtl on an archive of many files.

On a synthetic archive of N small DICOM radiographs (default 100,000; `benchmarks/archive.py`), in class folders:
- cold scan (`scan_folder` without a scan index, header reads in worker processes) against the plain loop of
  `dcmread(stop_before_pixels=True)` plus a SHA-1 of each file, per file; both read the files from the page
  cache (the archive was just written), interleaved over `--rounds` rounds;
- warm rescan (nothing changed: the index answers) against the cold scan;
- peak memory (tracemalloc) of a rescan that builds the CaseTable plus its 5-fold patient splits, against 1 GB;
- the first epoch's data path (cases decoded into the cache, augmented, batched; no model) of up to 5,000
  cases with `data.cache_memory_gb: 1`, at an input size whose decoded cases need 1.3 GB: the cache moves to
  disk; its growth in anonymous memory (what cannot be paged out) against the budget, and its time against
  the same epoch cached in memory;
- `medtl scan --help` start-up, against 1 s.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import pydicom

from benchmarks.archive import write_archive
from benchmarks.measure import Ratio, heading, interleaved_medians, machine_load, print_verdict, quiet_library_notices

EPOCH_CASES = 5_000
EPOCH_CACHE_GB = 1.3  # what the epoch's decoded cases need, against the 1 GB budget
GIB = 2**30


def plain_loop(paths: list[Path]) -> None:
    """What reading an archive costs at the least: every header, and every file's SHA-1."""
    for path in paths:
        pydicom.dcmread(path, stop_before_pixels=True)
        hashlib.sha1(path.read_bytes()).hexdigest()


def scan_ratios(root: Path, paths: list[Path], rounds: int) -> list[Ratio]:
    from medtl.data import scan_folder
    from medtl.data.scan_index import index_path

    def cold() -> None:
        index_path(root, "class-folders").unlink(missing_ok=True)
        scan_folder(root, layout="class-folders")

    heading(f"scanning {len(paths)} files: plain loop, cold scan, warm rescan ({rounds} rounds)")
    times = interleaved_medians({"plain": lambda: plain_loop(paths), "cold": cold,
                                 "warm": lambda: scan_folder(root, layout="class-folders")}, rounds, warmup=0)
    for name, seconds in times.items():
        print(f"  {name:<6} {seconds:7.2f} s   {seconds / len(paths) * 1e6:7.1f} us per file", flush=True)
    return [Ratio("cold scan per file vs plain header + SHA-1 loop", times["cold"] / times["plain"], 2.0, False),
            Ratio("warm rescan (nothing changed) vs cold scan", times["warm"] / times["cold"], 1 / 10, False)]


def table_memory_ratio(root: Path) -> Ratio:
    from medtl.data import scan_folder
    from medtl.evaluate import make_splits

    heading("peak memory of a rescan that builds the CaseTable, and its 5-fold patient splits")
    tracemalloc.start()
    table = scan_folder(root, layout="class-folders")
    splits = make_splits(table, folds=5)
    splits.fold_of(table)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  {len(table)} cases, {len(table.df['patient_id'].unique())} patients: peak {peak / 2**20:.0f} MB")
    return Ratio("peak memory of CaseTable + splits vs 1 GB", peak / GIB, 1 / 4, False)


def anonymous_memory() -> int:
    """Bytes of this process's anonymous resident memory (what a memory-mapped file's pages are not)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    raise OSError("no RssAnon in /proc/self/status")


def first_epoch(table, budget_gb: float | None, size: int) -> tuple[float, int, str]:
    """Seconds and anonymous-memory growth of the first pass over `table`'s training batches, and what the
    engine printed about its cache."""
    from torch.utils.data import DataLoader

    from medtl.config import ExperimentConfig
    from medtl.engine.pipeline.datasets import case_items
    from medtl.engine.training.setup import Pipelines, case_cache

    cfg = ExperimentConfig.from_dict({"data": {"cache_memory_gb": budget_gb}, "transforms": {"input_size": [size] * 2}})
    pipes = Pipelines.from_config(cfg)
    items = case_items(table, table.classes, with_mask=False)
    before, start, said = anonymous_memory(), time.perf_counter(), StringIO()
    with redirect_stdout(said):
        cache = case_cache(cfg, items, pipes, progress=False)
    for _ in DataLoader(cache.subset(range(len(items)), pipes.train), batch_size=32, shuffle=True):
        pass
    return time.perf_counter() - start, anonymous_memory() - before, said.getvalue().strip()


def epoch_ratios(root: Path) -> list[Ratio]:
    from medtl.data import scan_folder
    from medtl.data.case_table import CaseTable

    table = scan_folder(root, layout="class-folders")
    table = CaseTable(table.df.iloc[:: math.ceil(len(table) / EPOCH_CASES)])  # both labels, every patient folder
    size = math.ceil(math.sqrt(EPOCH_CACHE_GB * GIB / (4 * len(table))))
    heading(f"first epoch's data path, {len(table)} cases at {size}^2 ({EPOCH_CACHE_GB} GB decoded), "
            "cache budget 1 GB, then in memory")
    disk_time, disk_memory, said = first_epoch(table, 1.0, size)
    print(f"  {said}\n  disk:   {disk_time:6.1f} s, anonymous memory +{disk_memory / 2**20:.0f} MB", flush=True)
    memory_time, memory_memory, _ = first_epoch(table, None, size)
    print(f"  memory: {memory_time:6.1f} s, anonymous memory +{memory_memory / 2**20:.0f} MB", flush=True)
    if "on disk" not in said:
        raise RuntimeError(f"the 1 GB budget did not move the cache to disk (the engine said {said!r})")
    return [Ratio("first epoch, 1 GB budget: anonymous memory growth vs budget", max(disk_memory, 0) / GIB,
                  1 / 4, False),
            Ratio("first epoch, 1 GB budget (on disk) vs cached in memory", disk_time / memory_time, None, False)]


def startup_ratio() -> Ratio:
    heading("`medtl scan --help` start-up (median of 3)")
    command = [sys.executable, "-m", "medtl", "scan", "--help"]
    times = interleaved_medians({"help": lambda: subprocess.run(command, check=True, capture_output=True)}, 3)
    print(f"  {times['help']:.2f} s")
    return Ratio("`medtl scan --help` start-up vs 1 s", times["help"], 1.0, False)


def run(workdir: Path, files: int, rounds: int) -> list[Ratio]:
    """Every measurement on a fresh archive of `files` files under `workdir` (caches and index there too)."""
    os.environ["MEDTL_HOME"] = str(workdir / "home")
    start = time.perf_counter()
    paths = write_archive(workdir / "archive", files)
    old = time.time() - 3600  # written an hour ago, as an archive is: no timestamp is too recent to trust
    for path in paths:
        os.utime(path, (old, old))
    print(f"wrote {files} files in {time.perf_counter() - start:.0f} s", flush=True)
    root = workdir / "archive"
    return [*scan_ratios(root, paths, rounds), table_memory_ratio(root), *epoch_ratios(root), startup_ratio()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100_000, help="files in the archive (default 100000)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the scan timings (default 2)")
    args = parser.parse_args(argv)
    quiet_library_notices()
    start = time.perf_counter()
    print(f"medtl scale benchmark, {args.files} files, {machine_load()}")
    with tempfile.TemporaryDirectory(prefix="medtl-bench-scale-") as workdir:
        ratios = run(Path(workdir), args.files, args.rounds)
    print()
    for ratio in ratios:
        print(ratio.line())
    print_verdict(ratios, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
