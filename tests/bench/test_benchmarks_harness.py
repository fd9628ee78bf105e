import gzip
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from pydicom.data import get_testdata_file

from benchmarks import gpu
from benchmarks.__main__ import main as bench_main
from benchmarks.loading import floor_work
from benchmarks.measure import Ratio, fraction_text, interleaved_medians, markdown_table


def test_ratio_verdicts_follow_the_goal_direction():
    assert Ratio("speed-up", 3.0, 3.0, higher_is_better=True).verdict == "PASS"
    assert Ratio("speed-up", 2.9, 3.0, higher_is_better=True).verdict == "MISS"
    assert Ratio("time", 0.30, 1 / 3, higher_is_better=False).verdict == "PASS"
    assert Ratio("time", 0.40, 1 / 3, higher_is_better=False).verdict == "MISS"
    context = Ratio("context", 0.4, None, higher_is_better=False)
    assert (context.verdict, context.goal_text) == ("info", "none")
    assert fraction_text(0.02) == "0.02 (1/50)" and fraction_text(20.0) == "20x"
    table = markdown_table([Ratio("a", 0.5, 1 / 3, False), context]).splitlines()
    assert table[2] == "| a | 0.5 (1/2) | <= 0.333 (1/3) | MISS |" and len(table) == 4


def test_interleaved_medians_time_every_candidate_in_turn():
    calls = []

    def slow():
        calls.append("slow")
        time.sleep(0.02)

    times = interleaved_medians({"slow": slow, "fast": lambda: calls.append("fast")}, repeats=3, warmup=1)
    assert calls == ["slow", "fast"] * 4  # one warm-up round, then three interleaved rounds
    assert times["slow"] >= 0.02 > times["fast"]


def test_unknown_benchmark_name_is_refused(capsys):
    with pytest.raises(SystemExit):
        bench_main(["loadin"])
    assert "unknown benchmark 'loadin'" in capsys.readouterr().err


def test_gpu_script_explains_a_missing_gpu(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu.main([]) == 2
    assert "needs a CUDA GPU" in capsys.readouterr().err


def test_gpu_peak_table_and_flops_estimate():
    assert gpu.bf16_peak_tflops("NVIDIA H100 PCIe") == 756.0
    assert gpu.bf16_peak_tflops("NVIDIA H200") == 989.0
    assert gpu.bf16_peak_tflops("NVIDIA A100-SXM4-80GB") == 312.0
    assert gpu.bf16_peak_tflops("cpu") is None
    small, large = (gpu.Workload("resnet18", size, 2, 4, 2) for size in ((32, 32), (64, 64)))
    assert gpu.training_flops(large) == pytest.approx(4 * gpu.training_flops(small), rel=0.05)


def test_gpu_dry_run_measures_the_2d_workload_on_cpu(tmp_path, capsys, monkeypatch):
    def no_compiler(*args, **kwargs):
        raise RuntimeError("no C++ compiler here")

    monkeypatch.setattr(torch, "compile", no_compiler)  # a compiler failure is reported and the run goes on
    ratios = gpu.measure(gpu.DRY[0], torch.device("cpu"), workers=0, workdir=tmp_path)
    assert [r.name for r in ratios] == ["resnet18 medtl train vs plain fp32 loop (images/s)",
                                        "resnet18 step time, real loader / data on the GPU"]
    assert all(r.value > 0 for r in ratios)
    out = capsys.readouterr().out
    assert "real loader" in out and "unknown" in out
    assert "train.compile=true    failed: RuntimeError: no C++ compiler here" in out


def test_loading_floor_is_the_bare_inflate_or_parse(tmp_path):
    nib.save(nib.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.eye(4)), tmp_path / "v.nii.gz")
    assert floor_work("NIfTI", str(tmp_path / "v.nii.gz")) == gzip.decompress((tmp_path / "v.nii.gz").read_bytes())
    folder = Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests/98892001/CT5N"
    assert [ds.Modality for ds in floor_work("DICOM", str(folder))] == ["CT"] * 5  # every file parsed
