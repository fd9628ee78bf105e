"""`medtl config show CONFIG [--set key=value ...]`: the resolved, validated config a run would use."""
from __future__ import annotations

import argparse

from medtl.cli.common import add_config_arguments, load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="show the resolved config (defaults, inherits: and --set applied)")
    actions = p.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="print every key of CONFIG as a run would use it, after validation")
    add_config_arguments(show)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the resolved config as YAML (errors name the bad key and what it accepts).

    Example:
        >>> run(argparse.Namespace(action="show", config="configs/demo_xray.yaml", overrides=["cv.folds=3"]))
        ... # doctest: +ELLIPSIS
        name: demo_xray
        ...
          folds: 3
        ...
        0
    """
    print(load_config(args).to_yaml_text(), end="")
    return 0
