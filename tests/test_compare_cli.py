"""`medtl cv --baseline scratch` on small synthetic data, then `medtl compare` on the two runs it made."""
import json

import pytest

from medtl.cli.main import main
from medtl.synth import make_xray

pytestmark = pytest.mark.slow


def test_baseline_then_compare_prints_aucs_difference_ci_and_p(tmp_path, capsys):
    data = make_xray(tmp_path / "data", patients=10, size=32, seed=6)
    sets = [f"data.root={data}", "data.layout=csv", "model.weights=none", "transforms.input_size=[32, 32]",
            "train.epochs=1", "cv.folds=2", "explain.cases=1", "explain.target_layer=layer3"]
    args = ["cv", "configs/demo_xray.yaml", "--out", str(tmp_path / "run"), "--baseline", "scratch"]
    assert main([*args, *[a for s in sets for a in ("--set", s)]]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "run"), str(tmp_path / "run" / "baseline_scratch")]) == 0
    printed = capsys.readouterr().out
    result = json.loads((tmp_path / "run" / "compare_baseline_scratch.json").read_text())
    for line_start in ("  A ", "  B ", "  A - B"):
        assert any(line.startswith(line_start) for line in printed.splitlines()), line_start
    assert "DeLong p" in printed
    assert f"{result['a']['auc']:.3f}" in printed and f"{result['b']['auc']:.3f}" in printed
