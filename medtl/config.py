"""`ExperimentConfig`: a validated experiment configuration read from YAML, with `inherits:` and
`--set key=value` overrides. The resolved copy is saved in the run folder so a run can be repeated exactly.

Every key, its type, default and allowed values are declared once in `medtl.config_schema`; validation happens
when a config is built, so a typo fails before any image is read or file written.
"""
from __future__ import annotations

import copy
import difflib
import re
import typing
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError

from medtl.config_choices import CHOICES
from medtl.config_schema import ExperimentSchema, find_field
from medtl.errors import ConfigError

CONFIG_DIR = Path(__file__).parent / "configs"
NULLS = ("null", "~")


class _Loader(yaml.SafeLoader):
    """YAML without timestamps: a date-like value (`name: 2024-01-01`) stays the text it was written as."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# YAML 1.1 reads 1e-3 (no dot) as text; medtl reads it as the number it is meant to be.
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$"),
                              list("-+0123456789"))


def read_yaml(text: str) -> Any:
    """YAML as medtl reads configs: like `yaml.safe_load`, but dates stay text.

    Example:
        >>> read_yaml("name: 2024-01-01\\nlr: 1e-3\\nsize: [32, 32]")
        {'name': '2024-01-01', 'lr': 0.001, 'size': [32, 32]}
    """
    return yaml.load(text, Loader=_Loader)


ConfigLike = Union[str, Path, "ExperimentConfig", dict]


class ExperimentConfig:
    """A nested configuration with dotted access (`cfg["train.epochs"]`), validated against the schema of
    `medtl.config_schema` (`configs/defaults.yaml` lists every key with its default).

    Example:
        >>> cfg = ExperimentConfig.from_dict({"train": {"epochs": 2}})
        >>> cfg["train.epochs"], cfg["cv.folds"]
        (2, 5)
        >>> cfg.with_overrides(["cv.folds=3", "data.positive_label=1"]).flat()["data.positive_label"]
        '1'
        >>> ExperimentConfig.from_dict({"explain": {"method": "gradcamm"}})
        Traceback (most recent call last):
        ...
        medtl.errors.ConfigError: <dict>: explain.method must be one of {'auto', ...}. Got 'gradcamm' instead.
    """

    def __init__(self, data: dict[str, Any], source: str = "<dict>"):
        self.source = source
        self.data = data

    @classmethod
    def from_dict(cls, user: dict[str, Any], source: str = "<dict>") -> "ExperimentConfig":
        """Validate `user` (any subset of the keys) and fill in every default."""
        return cls(validate(user, source), source)

    @classmethod
    def load(cls, config: ConfigLike, overrides: list[str] | tuple[str, ...] = ()) -> "ExperimentConfig":
        """A config from a YAML path, a dict of keys or an `ExperimentConfig`, with `--set` overrides applied.

        Example:
            >>> ExperimentConfig.load("configs/demo_xray.yaml", ["seed=1"])["seed"]
            1
        """
        if isinstance(config, ExperimentConfig):
            cfg = config
        elif isinstance(config, dict):
            cfg = cls.from_dict(config)
        else:
            cfg = cls.from_yaml(config)
        return cfg.with_overrides(list(overrides)) if overrides else cfg

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
        """A copy with `key.sub=value` assignments applied. Each value is read by the key's declared type: text
        keys keep the text as written (`data.positive_label=1` is "1", `name=no` is "no"), other keys read it
        as YAML (`3`, `0.1`, `[64, 64]`, `true`, `null`).

        Example:
            >>> ExperimentConfig.from_dict({}).with_overrides(["name=no", "transforms.input_size=[32, 32]"]).data["name"]
            'no'
        """
        data = copy.deepcopy(self.data)
        for item in assignments:
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ConfigError(f"--set expects key=value. Got {item!r} instead.")
            node = data
            *sections, leaf = key.split(".")
            for part in sections:
                node = node.setdefault(part, {}) if isinstance(node, dict) else node
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item}: {key.rsplit('.', 1)[0]} is not a section")
            node[leaf] = parse_value(key, raw)
        return ExperimentConfig(validate(data, "--set"), self.source)

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

    def to_yaml_text(self) -> str:
        """The resolved config as YAML, in the schema's key order."""
        return yaml.safe_dump(self.data, sort_keys=False)

    def to_yaml(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_yaml_text())
        return path


def parse_value(dotted: str, raw: str) -> Any:
    """A `--set` value read by the declared type of `dotted`: text stays text (null/~ give None where the key
    may be null), anything else is read as YAML and checked by the schema afterwards.

    Example:
        >>> parse_value("data.positive_label", "1"), parse_value("train.epochs", "3"), parse_value("data.root", "null")
        ('1', 3, None)
    """
    found = find_field(dotted)
    if found is None:
        raise ConfigError(f"--set: {_unknown_key_message(dotted)}")
    model, name = found
    field = model.model_fields[name]
    kinds = {_bare(a) for a in typing.get_args(field.annotation)} or {_bare(field.annotation)}
    if raw.strip() in NULLS and type(None) in kinds:
        return None
    if kinds - {type(None)} <= {str} or dotted in CHOICES:
        return raw.strip()
    return read_yaml(raw)


def _bare(annotation: Any) -> Any:
    """`Annotated[str, ...]` -> str."""
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated else annotation


def validate(data: dict[str, Any], source: str) -> dict[str, Any]:
    """`data` checked against the schema and completed with defaults, as plain dicts and lists; a
    `ConfigError` names every key at fault, its allowed values and what it got.

    Example:
        >>> validate({"cv": {"folds": 3}}, "<dict>")["cv"]
        {'folds': 3, 'aggregate': 'mean', 'parallel': 'folds'}
    """
    try:
        return ExperimentSchema.model_validate(data).model_dump()
    except ValidationError as err:
        messages = {}
        for error in err.errors():
            key = _key_of(error["loc"])
            messages.setdefault(key, f"{source}: {_message(key, error)}")  # a union reports once per branch
        raise ConfigError("\n".join(messages.values())) from None


def _key_of(loc: tuple[Any, ...]) -> str:
    """The dotted config key of a pydantic error location (which may go on into list items and union branches)."""
    parts: list[str] = []
    for part in loc:
        parts.append(str(part))
        found = find_field(".".join(parts))
        if found is None or not _is_section(found[0].model_fields[found[1]].annotation):
            break
    return ".".join(parts)


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _message(dotted: str, error: dict[str, Any]) -> str:
    """One pydantic error in scikit-learn's words: "<key> must be ... Got <value> instead."."""
    kind, got = error["type"], error.get("input")
    if kind == "extra_forbidden":
        return _unknown_key_message(dotted)
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if dotted in CHOICES:
        return f"{dotted} must be one of {{{', '.join(map(repr, CHOICES[dotted]))}}}. Got {got!r} instead."
    if kind in ("model_type", "dict_type"):
        return f"{dotted} must be a section of keys. Got {got!r} instead."
    found = find_field(dotted)
    field = found[0].model_fields[found[1]] if found else None
    if kind == "string_pattern_mismatch" and field is not None:
        return f"{dotted} must be one of {{{field.description.replace(' | ', ', ')}}}. Got {got!r} instead."
    if field is not None and kind not in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{dotted} must be {_type_words(field.annotation)}. Got {got!r} instead."
    return f"{dotted} must be {_expected(error)}. Got {got!r} instead."


def _expected(error: dict[str, Any]) -> str:
    return error["msg"].removeprefix("Input should be ")


_WORDS = {str: "a str", int: "an int", float: "a float", bool: "true or false", type(None): "null"}


def _type_words(annotation: Any) -> str:
    """`Optional[list[int]]` as "a list of 2 or 3 ints or null", for an error message."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if annotation in _WORDS:
        return _WORDS[annotation]
    if origin is typing.Annotated:
        return _type_words(args[0])
    if origin is list:
        return "a list of 2 or 3 positive ints"
    if origin is typing.Literal:
        return " or ".join(map(repr, typing.get_args(annotation)))
    words = " or ".join(_type_words(a) for a in args)
    return words + (" or null" if type(None) in typing.get_args(annotation) else "")


def _unknown_key_message(dotted: str) -> str:
    *sections, leaf = dotted.split(".")
    model: type[BaseModel] = ExperimentSchema
    for depth, part in enumerate(sections):
        section = model.model_fields[part].annotation if part in model.model_fields else None
        if not _is_section(section):
            return _unknown_key_message(".".join(sections[:depth + 1]))
        model = section
    known = list(model.model_fields)
    close = difflib.get_close_matches(leaf, known, n=1)
    prefix = "".join(f"{s}." for s in sections)
    hint = f" Did you mean '{prefix}{close[0]}'?" if close else f" Known keys here: {sorted(known)}."
    return f"unknown config key {dotted!r}.{hint}"


def _read_with_inherits(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    if path.resolve() in seen:
        raise ConfigError(f"{path}: 'inherits' forms a cycle through {[str(p) for p in seen]}")
    try:
        data = read_yaml(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config must be a mapping of keys, got {type(data).__name__}")
    parent = data.pop("inherits", None)
    if parent is None:
        return data
    return _merge(_read_with_inherits(path.parent / parent, seen + (path.resolve(),)), data)


def _merge(base: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """`user` over `base`, section by section (the schema checks the result)."""
    out = copy.deepcopy(base)
    for key, value in user.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
