"""`medtl cv --baseline scratch` on small synthetic data, then `medtl compare` on the two runs it made."""
import json
import re

import pytest

from medtl.cli.main import main
from medtl.synth import make_xray

pytestmark = pytest.mark.slow


def test_baseline_without_maps_then_compare_prints_aucs_difference_ci_and_p(tmp_path, capsys):
    data = make_xray(tmp_path / "data", patients=10, size=32, seed=6)
    sets = [f"data.root={data}", "data.layout=csv", "model.weights=none", "transforms.input_size=[32, 32]",
            "train.epochs=1", "cv.folds=2", "explain.cases=0"]
    args = ["cv", "configs/demo_xray.yaml", "--out", str(tmp_path / "run"), "--baseline", "scratch"]
    assert main([*args, *[a for s in sets for a in ("--set", s)]]) == 0
    for run in (tmp_path / "run", tmp_path / "run" / "baseline_scratch"):  # explain.cases=0: no maps, a report
        assert not (run / "explain" / "summary.json").exists() and (run / "reports" / "index.html").is_file()
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "run"), str(tmp_path / "run" / "baseline_scratch")]) == 0
    printed = capsys.readouterr().out
    result = json.loads((tmp_path / "run" / "compare_baseline_scratch.json").read_text())
    for line_start in ("  A ", "  B ", "  A - B"):
        assert any(line.startswith(line_start) for line in printed.splitlines()), line_start
    assert "DeLong p" in printed
    assert f"{result['a']['auc']:.3f}" in printed and f"{result['b']['auc']:.3f}" in printed


def test_explain_and_report_commands_on_a_finished_run(tmp_path, capsys):
    data = make_xray(tmp_path / "data", patients=8, size=32, seed=7)
    sets = [f"data.root={data}", "data.layout=csv", "model.weights=none", "transforms.input_size=[32, 32]",
            "train.epochs=1", "cv.folds=2", "explain.cases=1", "explain.target_layer=layer3"]
    run = tmp_path / "run"
    assert main(["cv", "configs/demo_xray.yaml", "--out", str(run), *[a for s in sets for a in ("--set", s)]]) == 0
    positives = [c.strip() for c in (data / "cases.csv").read_text().splitlines()[1:] if ",nodule," in c]
    case = positives[0].split(",")[0].split("/")[-1].split(".")[0]
    assert main(["explain", str(run), "--cases", case, "--method", "gradcampp"]) == 0
    summary = json.loads((run / "explain" / "summary.json").read_text())
    assert summary["method"] == "gradcampp" and [c["case_id"] for c in summary["cases"]] == [case]
    assert (run / "explain" / f"{case}.nii.gz").is_file() and summary["n_with_mask"] == 1
    assert main(["explain", str(run), "--cases", "nope"]) == 1
    assert "no out-of-fold prediction for case(s) ['nope']" in capsys.readouterr().err
    key = tmp_path / "site.key"
    key.write_text("k\n")
    assert main(["report", str(run), "--key-file", str(key)]) == 0
    pages = " ".join(p.read_text() for p in (run / "reports").glob("*.html"))
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", pages)  # embedded images are not text
    assert "P00" not in text and "P00" not in (run / "reports" / "patients.csv").read_text()
