"""The `medtl` command: one sub-command per module in `medtl.cli`, each exposing `add_parser(subparsers)`.

Verb modules import torch, MONAI and the engine inside their `run` only, so `medtl --help` stays fast.
Exit status: 0 on success, 1 for a command that failed for a known reason (one line on stderr, no traceback;
`--verbose` adds it), 2 for a usage error (argparse), 130 when interrupted.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from medtl.errors import MedtlError

# Verb -> its module under medtl.cli: inputs/ (what goes in), training/ (what trains), results/ (what comes out).
COMMANDS = {
    "synth": "inputs.synth", "scan": "inputs.scan", "train": "training.train", "cv": "training.cv",
    "explain": "results.explain", "report": "results.report", "demo": "training.demo", "weights": "inputs.weights",
    "pretrain": "training.pretrain", "compare": "results.compare", "predict": "results.predict",
    "lr_find": "training.lr_find", "config": "inputs.config", "sweep": "training.sweep", "export": "results.export",
}
# Known conditions: reported in one line; anything else is a bug and keeps its traceback.
KNOWN_ERRORS = (MedtlError, ValueError, OSError, ImportError, FloatingPointError)

log = logging.getLogger("medtl")


def version() -> str:
    """medtl's version, from the installed package's metadata."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("medtl")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered.

    Example:
        >>> build_parser().parse_args(["synth", "xray", "out", "--quiet"]).log_level
        30
    """
    parser = argparse.ArgumentParser(prog="medtl", description="Transfer learning for medical images.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    _add_verbosity(parser, default=logging.INFO)
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        importlib.import_module(f"medtl.cli.{module}").add_parser(sub)
    for verb in _subparsers(parser):
        _add_verbosity(verb, default=argparse.SUPPRESS)  # `medtl cv ... --quiet` as well as `medtl --quiet cv ...`
    return parser


def _add_verbosity(parser: argparse.ArgumentParser, default: object) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", dest="log_level", action="store_const", const=logging.WARNING,
                       default=default, help="only warnings and errors; no progress bars")
    group.add_argument("-v", "--verbose", dest="log_level", action="store_const", const=logging.DEBUG,
                       default=default, help="debug messages, and the traceback of an error")


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += [child, *_subparsers(child)]
    return found


class _Stderr(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (pytest and notebooks replace it)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(level: int) -> None:
    """medtl's messages at `level` and above to stderr, as plain lines."""
    log.setLevel(level)
    if not any(isinstance(handler, _Stderr) for handler in log.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.propagate = False


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `medtl` console script; returns the exit status.

    Example:
        >>> main(["config", "show", "configs/demo_xray.yaml", "--set", "explain.method=gradcamm"])
        1
    """
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    args.progress = args.log_level <= logging.INFO
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        log.error(f"medtl {args.command}: interrupted" + ("; resume with --resume" if "resume" in args else ""))
        return 130
    except KNOWN_ERRORS as err:
        log.debug("traceback:", exc_info=True)
        message = f"{type(err).__name__}: {err}" if isinstance(err, ModuleNotFoundError) else str(err)
        log.error(f"medtl {args.command}: error: {message}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
