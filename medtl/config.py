"""`ExperimentConfig`: a validated experiment configuration read from YAML, with `inherits:` and
`--set key=value` overrides. The resolved copy is saved in the run folder so a run can be repeated exactly."""
from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).parent / "configs"


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key (and file) at fault."""


def _defaults() -> dict[str, Any]:
    return yaml.safe_load((CONFIG_DIR / "defaults.yaml").read_text())


class ExperimentConfig:
    """A nested configuration with dotted access (`cfg["train.epochs"]`) validated against medtl's defaults.

    Every key must exist in `medtl/configs/defaults.yaml`; a value must have the default's type (ints are
    accepted where floats are expected; a null default accepts anything).

    Example:
        >>> cfg = ExperimentConfig.from_dict({"train": {"epochs": 2}})
        >>> cfg["train.epochs"], cfg["cv.folds"]
        (2, 5)
        >>> cfg.with_overrides(["cv.folds=3"])["cv.folds"]
        3
    """

    def __init__(self, data: dict[str, Any], source: str = "<dict>"):
        self.source = source
        self.data = data

    @classmethod
    def from_dict(cls, user: dict[str, Any], source: str = "<dict>") -> "ExperimentConfig":
        merged = _merge(_defaults(), user, source=source, prefix="")
        return cls(merged, source)

    @classmethod
    def packaged(cls, name: str) -> "ExperimentConfig":
        """A config shipped with medtl (`configs/<name>`).

        Example:
            >>> ExperimentConfig.packaged("demo_xray.yaml")["model.backbone"]
            'resnet18'
        """
        return cls.from_yaml(CONFIG_DIR / name)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "ExperimentConfig":
        """Read a YAML config; `inherits: other.yaml` (relative to this file) is read first and overridden."""
        return cls.from_dict(_read_with_inherits(Path(path), seen=()), source=str(path))

    def with_overrides(self, assignments: list[str]) -> "ExperimentConfig":
        """A copy with `key.sub=value` assignments applied (values parsed as YAML: `3`, `0.1`, `[64, 64]`)."""
        data = copy.deepcopy(self.data)
        for item in assignments:
            key, sep, raw = item.partition("=")
            if not sep:
                raise ConfigError(f"--set expects key=value, got {item!r}")
            nested: dict[str, Any] = {}
            node = nested
            parts = key.strip().split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = yaml.safe_load(raw)
            data = _merge(data, nested, source="--set", prefix="")
        return ExperimentConfig(data, self.source)

    def __getitem__(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"no config key {dotted!r}")
            node = node[part]
        return node

    def flat(self) -> dict[str, Any]:
        """Every leaf as a dotted key.

        Example:
            >>> ExperimentConfig.from_dict({})["cv.folds"] == ExperimentConfig.from_dict({}).flat()["cv.folds"]
            True
        """
        out: dict[str, Any] = {}
        stack = [("", self.data)]
        while stack:
            prefix, node = stack.pop()
            for key, value in node.items():
                if isinstance(value, dict):
                    stack.append((f"{prefix}{key}.", value))
                else:
                    out[f"{prefix}{key}"] = value
        return out

    def to_yaml(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(yaml.safe_dump(self.data, sort_keys=False))
        return path


def _read_with_inherits(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    if path.resolve() in seen:
        raise ConfigError(f"{path}: 'inherits' forms a cycle through {[str(p) for p in seen]}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config must be a mapping of keys, got {type(data).__name__}")
    parent = data.pop("inherits", None)
    if parent is None:
        return data
    base = _read_with_inherits((path.parent / parent), seen + (path.resolve(),))
    return _merge(base, data, source=str(path), prefix="", validate=False)


def _merge(base: dict[str, Any], user: dict[str, Any], source: str, prefix: str, validate: bool = True) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in user.items():
        dotted = f"{prefix}{key}"
        if validate and key not in base:
            close = difflib.get_close_matches(key, list(base), n=1)
            hint = f" Did you mean '{prefix}{close[0]}'?" if close else f" Known keys here: {sorted(base)}."
            raise ConfigError(f"{source}: unknown config key {dotted!r}.{hint}")
        current = base.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            out[key] = _merge(current, value, source, f"{dotted}.", validate)
        else:
            if validate:
                _check_type(dotted, current, value, source)
            out[key] = copy.deepcopy(value)
    return out


def _check_type(dotted: str, default: Any, value: Any, source: str) -> None:
    if default is None or value is None:
        return
    if isinstance(default, dict):
        raise ConfigError(f"{source}: {dotted!r} must be a mapping, got {value!r}")
    ok = isinstance(value, type(default)) or (isinstance(default, float) and isinstance(value, int))
    if isinstance(default, bool) != isinstance(value, bool):
        ok = False
    if not ok:
        raise ConfigError(f"{source}: {dotted!r} must be a {type(default).__name__}, got {value!r}")
