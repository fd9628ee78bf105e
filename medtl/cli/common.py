"""Arguments several sub-commands share: a config file with `--set` overrides."""
from __future__ import annotations

import argparse

from medtl.config import ExperimentConfig


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="experiment YAML (see configs/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set train.epochs=3 (repeatable)")


def load_config(args: argparse.Namespace) -> ExperimentConfig:
    """The config named on the command line with its --set overrides applied.

    Example:
        >>> load_config(argparse.Namespace(config="configs/demo_xray.yaml", overrides=["seed=1"]))["seed"]
        1
    """
    return ExperimentConfig.from_yaml(args.config).with_overrides(args.overrides)
