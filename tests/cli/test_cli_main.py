"""The `medtl` command's plumbing: version, lazy imports, exit statuses, errors without tracebacks, logging,
the pseudonymization key, `medtl config show`, and one API function per verb."""
import argparse
import logging
import subprocess
import sys
from importlib.metadata import version

import pytest

import medtl
from medtl.cli.common import KEY_VARIABLE, pseudonym_key
from medtl.cli.main import COMMANDS, main
from medtl.config_choices import CHOICES
from medtl.errors import MissingExtraError, NonFiniteLossError

TYPO = ["cv", "configs/demo_xray.yaml", "--set", "explain.method=gradcamm"]


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def test_version_comes_from_the_package_metadata(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"medtl {version('medtl')}"
    assert medtl.__version__ == version("medtl")


def test_help_and_import_load_neither_torch_nor_monai_nor_pydantic():
    loaded = _python("import sys, medtl; from medtl.cli.main import build_parser; build_parser().format_help(); "
                     "print(sorted(m for m in ('torch', 'monai', 'pydantic', 'pandas') if m in sys.modules))")
    assert loaded == "[]"


def test_a_config_typo_fails_before_anything_runs_with_the_key_and_allowed_values(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "medtl", *TYPO, "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    allowed = ", ".join(repr(method) for method in CHOICES["explain.method"])
    assert f"explain.method must be one of {{{allowed}}}. Got 'gradcamm' instead." in done.stderr
    assert not out.exists()


def test_missing_weights_leave_no_run_folder_behind(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEDTL_HOME", str(tmp_path / "home"))
    out = tmp_path / "run"
    args = ["cv", "configs/demo_xray.yaml", "--set", f"data.root={tmp_path}", "--out", str(out)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "medtl cv: error: model.weights: medtl:synth-cxr-resnet18: no spec.json" in err
    assert not out.exists()


def test_usage_errors_exit_2_and_unknown_options_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as done:
        main(["cv"])
    assert done.value.code == 2
    with pytest.raises(SystemExit) as done:
        main(["report", "runs/x", "--pseudonymize", "the-key"])  # the key is no longer a command-line value
    assert done.value.code == 2


@pytest.mark.parametrize("raised, status, words", [
    (KeyboardInterrupt(), 130, "medtl cv: interrupted; resume with --resume"),
    (NonFiniteLossError("fold 1/5: loss became nan at epoch 2, batch 3"), 1, "error: fold 1/5: loss became nan"),
    (MissingExtraError("timm: backbones need the timm package"), 1, "error: timm: backbones need the timm package"),
    (ModuleNotFoundError("No module named 'tensorboard'"), 1, "error: ModuleNotFoundError: No module named"),
])
def test_known_conditions_end_in_one_line_without_traceback(raised, status, words, tmp_path, monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise raised

    monkeypatch.setattr("medtl.api.run_cv", fail)
    assert main(["cv", "configs/demo_xray.yaml", "--set", f"data.root={tmp_path}"]) == status
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_verbose_adds_the_traceback_and_quiet_keeps_stdout(tmp_path, monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise NonFiniteLossError("loss became nan")

    monkeypatch.setattr("medtl.api.run_cv", fail)
    assert main(["cv", "configs/demo_xray.yaml", "--set", f"data.root={tmp_path}", "--verbose"]) == 1
    assert "Traceback" in capsys.readouterr().err
    assert main(["--quiet", "config", "show", "configs/demo_xray.yaml"]) == 0
    captured = capsys.readouterr()
    assert "name: demo_xray" in captured.out and captured.err == ""
    assert logging.getLogger("medtl").level == logging.WARNING


def test_config_show_prints_the_resolved_config(capsys):
    assert main(["config", "show", "configs/demo_xray.yaml", "--set", "data.positive_label=1", "--set",
                 "name=2024-01-01"]) == 0
    shown = capsys.readouterr().out
    assert "positive_label: '1'" in shown and "name: '2024-01-01'" in shown and "weights: medtl:synth-cxr-resnet18" in shown
    assert main(["config", "show", "configs/demo_xray.yaml", "--set", "train.epoch=3"]) == 1
    assert "unknown config key 'train.epoch'. Did you mean 'train.epochs'?" in capsys.readouterr().err


def test_the_pseudonymization_key_comes_from_the_environment_or_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, "from-env")
    assert pseudonym_key(argparse.Namespace(pseudonymize=True, key_file=None)) == "from-env"
    (tmp_path / "k").write_text("from-file\nignored\n")
    assert pseudonym_key(argparse.Namespace(pseudonymize=False, key_file=tmp_path / "k")) == "from-file"
    monkeypatch.delenv(KEY_VARIABLE)
    with pytest.raises(ValueError, match=f"set {KEY_VARIABLE} or pass --key-file"):
        pseudonym_key(argparse.Namespace(pseudonymize=True, key_file=None))


def test_every_verb_has_one_api_function_named_after_it():
    verbs = set(COMMANDS) - {"config", "weights"}
    assert {f"run_{verb}" for verb in verbs} | {"run_weights_list"} == {n for n in medtl.__all__ if n.startswith("run_")}
    for name in medtl.__all__:
        assert getattr(medtl, name).__doc__, name
