"""Arguments several sub-commands share: a config file with `--set` overrides, and the pseudonymization key.

Nothing heavy is imported here: `medtl --help` builds every sub-command's parser.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medtl.config import ExperimentConfig

KEY_VARIABLE = "MEDTL_PSEUDONYM_KEY"


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="experiment YAML (see configs/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set train.epochs=3 (repeatable)")


def load_config(args: argparse.Namespace) -> "ExperimentConfig":
    """The config named on the command line with its --set overrides applied.

    Example:
        >>> load_config(argparse.Namespace(config="configs/demo_xray.yaml", overrides=["seed=1"]))["seed"]
        1
    """
    from medtl.config import ExperimentConfig

    return ExperimentConfig.load(args.config, args.overrides)


def add_pseudonymize_arguments(parser: argparse.ArgumentParser) -> None:
    """`--pseudonymize` and `--key-file`: the key never appears on the command line (or in shell history)."""
    parser.add_argument("--pseudonymize", action="store_true",
                        help=f"replace patient and case ids in reports/ by a hash keyed with the key in the "
                             f"environment variable {KEY_VARIABLE} (or in --key-file)")
    parser.add_argument("--key-file", type=Path, metavar="FILE",
                        help="file whose first line is the pseudonymization key (implies --pseudonymize)")


def pseudonym_key(args: argparse.Namespace) -> str | None:
    """The key `--pseudonymize`/`--key-file` ask for, or None when ids stay as they are.

    Example:
        >>> pseudonym_key(argparse.Namespace(pseudonymize=False, key_file=None)) is None
        True
    """
    if args.key_file is not None:
        if not args.key_file.is_file():
            raise FileNotFoundError(f"--key-file {args.key_file}: no such file")
        key = next(iter(args.key_file.read_text().splitlines()), "").strip()
        where = str(args.key_file)
    elif args.pseudonymize:
        key, where = os.environ.get(KEY_VARIABLE, "").strip(), f"the environment variable {KEY_VARIABLE}"
    else:
        return None
    if not key:
        raise ValueError(f"--pseudonymize needs a key: {where} is empty or unset; set {KEY_VARIABLE} or pass "
                         "--key-file FILE")
    return key
