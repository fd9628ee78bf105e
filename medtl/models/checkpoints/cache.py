"""medtl's own weights cache: `$MEDTL_HOME/weights/<NAME>/model.safetensors` plus `spec.json`
(backbone, sha256 of the file, description). `$MEDTL_HOME` defaults to `~/.cache/medtl`."""
from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from medtl.errors import MissingWeightsError
from medtl.models.registry import get_spec

WEIGHTS_FILE = "model.safetensors"
INFO_FILE = "spec.json"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def medtl_home() -> Path:
    """The root of medtl's caches: `$MEDTL_HOME`, default `~/.cache/medtl`.

    Example:
        >>> medtl_home().name  # doctest: +SKIP
        'medtl'
    """
    return Path(os.environ.get("MEDTL_HOME") or "~/.cache/medtl").expanduser()


def weights_dir(name: str) -> Path:
    """The folder of cached weights `name` (which must be a plain folder name).

    Example:
        >>> weights_dir("synth-cxr-resnet18").parts[-2:]
        ('weights', 'synth-cxr-resnet18')
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"weights name must be letters, digits, '.', '_' or '-' (not starting with a "
                         f"symbol). Got {name!r} instead.")
    return medtl_home() / "weights" / name


def file_sha256(path: str | Path) -> str:
    """The sha256 hex digest of a file.

    Example:
        >>> len(file_sha256(__file__))
        64
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def writable_entry(name: str, overwrite: bool = False) -> Path:
    """The cache folder of weights `name`, after checking it may be written: an existing entry needs `overwrite`.

    Example:
        >>> writable_entry("my-new-source-model").name
        'my-new-source-model'
    """
    folder = weights_dir(name)
    if (folder / INFO_FILE).exists() and not overwrite:
        raise FileExistsError(f"{folder}: cached weights {name!r} exist already; pass overwrite=True to replace them.")
    return folder


def store_weights(name: str, model: torch.nn.Module | Mapping[str, torch.Tensor], backbone: str,
                  description: str = "", overwrite: bool = False) -> Path:
    """Save `model`'s state dict (or a state dict) as cached weights `name` for `backbone`, so that
    `create_model(backbone, weights="medtl:<name>")` finds it. Returns the safetensors file.

    Example:
        >>> from medtl.models import create_model
        >>> store_weights("demo", create_model("resnet18"), "resnet18", "example")  # doctest: +SKIP
        PosixPath('/home/me/.cache/medtl/weights/demo/model.safetensors')
    """
    get_spec(backbone)
    folder = writable_entry(name, overwrite)
    state = model.state_dict() if isinstance(model, torch.nn.Module) else model
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / WEIGHTS_FILE
    save_file({key: value.detach().cpu().contiguous() for key, value in state.items()}, path)
    info = {"name": name, "backbone": backbone, "file": WEIGHTS_FILE, "sha256": file_sha256(path),
            "description": description, "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    (folder / INFO_FILE).write_text(json.dumps(info, indent=2))
    return path


def cached_weights() -> list[dict]:
    """Every entry of medtl's weights cache (its `spec.json` plus "path" of the weights file), by name.

    Example:
        >>> [w["name"] for w in cached_weights()]  # doctest: +SKIP
        ['synth-cxr-resnet18']
    """
    root = medtl_home() / "weights"
    entries = []
    for info_file in sorted(root.glob(f"*/{INFO_FILE}")):
        info = json.loads(info_file.read_text())
        entries.append({**info, "path": str(info_file.parent / WEIGHTS_FILE)})
    return entries


def cached_entry(name: str) -> tuple[dict, Path]:
    """The `spec.json` of cached weights `name` and the path of its weights file, after checking both exist
    (without reading the weights).

    Example:
        >>> info, path = cached_entry("synth-cxr-resnet18")  # doctest: +SKIP
        >>> path.name                                         # doctest: +SKIP
        'model.safetensors'
    """
    folder = weights_dir(name)
    if not (folder / INFO_FILE).is_file():
        known = sorted(w["name"] for w in cached_weights())
        raise MissingWeightsError(f"medtl:{name}: no {INFO_FILE} in {folder}. Cached weights: {known or 'none'}; "
                                  "add a checkpoint with `medtl weights import FILE --as NAME --backbone ARCH`.")
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        raise MissingWeightsError(f"medtl:{name}: {path} is missing.")
    return json.loads((folder / INFO_FILE).read_text()), path


def read_cached_weights(name: str) -> tuple[dict[str, torch.Tensor], dict]:
    """The state dict and `spec.json` of cached weights `name`, after checking the file's sha256.

    Example:
        >>> state, info = read_cached_weights("synth-cxr-resnet18")  # doctest: +SKIP
        >>> info["backbone"]                                         # doctest: +SKIP
        'resnet18'
    """
    info, path = cached_entry(name)
    actual = file_sha256(path)
    if actual != info.get("sha256"):
        raise ValueError(f"medtl:{name}: refused: sha256 of {path} is {actual}, but {path.parent / INFO_FILE} "
                         f"records {info.get('sha256')}. The file changed after it was stored; store it again.")
    return load_file(path, device="cpu"), info
