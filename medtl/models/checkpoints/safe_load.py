"""Reading checkpoint files safely: safetensors, or torch files with `weights_only=True` (never arbitrary pickle)."""
from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from medtl.errors import UnsafeCheckpointError

TORCH_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")
CHECKPOINT_SUFFIXES = (*TORCH_SUFFIXES, ".safetensors")
WRAPPER_KEYS = ("state_dict", "model")


@contextmanager
def refusing_pickled_objects(path: str | Path) -> Iterator[None]:
    """Turn torch's weights-only refusal inside the block into an `UnsafeCheckpointError` that says how to
    convert the file.

    Example:
        >>> with refusing_pickled_objects("w.pth"):
        ...     state = {}
    """
    try:
        yield
    except pickle.UnpicklingError as err:
        reason = next((line.strip().split(" was not")[0] for line in str(err).splitlines()
                       if "WeightsUnpickler error" in line), "not a plain tensor file")
        raise UnsafeCheckpointError(
            f"{path}: refused to load: the checkpoint holds pickled Python objects, which could run arbitrary "
            f"code ({reason}). If you trust it, convert it once in a trusted environment: load it with "
            "torch.load(path, weights_only=False) and save only the tensors, "
            "torch.save(model.state_dict(), 'weights.pth') or "
            "safetensors.torch.save_file(model.state_dict(), 'weights.safetensors')."
        ) from err


def load_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict in a .pth/.pt/.ckpt/.bin/.safetensors file, on the CPU, unwrapped from a
    `{"state_dict": ...}` or `{"model": ...}` container.

    Example:
        >>> load_checkpoint("resnet_10_23dataset.pth")["module.conv1.weight"].shape  # doctest: +SKIP
        torch.Size([64, 1, 7, 7, 7])
    """
    path = Path(path)
    if path.suffix not in CHECKPOINT_SUFFIXES:
        raise ValueError(f"{path}: checkpoint suffix must be one of {set(CHECKPOINT_SUFFIXES)}. "
                         f"Got {path.suffix!r} instead.")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    if path.suffix == ".safetensors":
        try:
            return load_file(path, device="cpu")
        except SafetensorError as err:
            raise ValueError(f"{path}: not a readable safetensors file ({err})") from err
    with refusing_pickled_objects(path):
        content = torch.load(path, map_location="cpu", weights_only=True)
    return unwrap_state_dict(content, path)


def unwrap_state_dict(content: Any, path: str | Path) -> dict[str, torch.Tensor]:
    """The tensor dict inside a loaded checkpoint (itself, or under "state_dict" / "model").

    Example:
        >>> unwrap_state_dict({"state_dict": {"w": torch.zeros(1)}, "epoch": 3}, "a.ckpt").keys()
        dict_keys(['w'])
    """
    while isinstance(content, Mapping) and not _all_tensors(content):
        inner = next((content[k] for k in WRAPPER_KEYS if isinstance(content.get(k), Mapping)), None)
        if inner is None:
            break
        content = inner
    if not isinstance(content, Mapping) or not content or not _all_tensors(content):
        found = sorted(content)[:8] if isinstance(content, Mapping) else type(content).__name__
        raise ValueError(f"{path}: expected a state dict of tensors (plain, or under 'state_dict' / 'model'). "
                         f"Found {found}.")
    return dict(content)


def _all_tensors(mapping: Mapping) -> bool:
    return all(isinstance(value, torch.Tensor) for value in mapping.values())


def load_pickled_module_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict of a whole `nn.Module` saved with `torch.save(model)` (as TorchXRayVision publishes its
    DenseNets), read without running any of the file's code.

    torch's weights-only unpickler refuses the module classes such a file names; each is allowed here as an
    empty stand-in class that only stores the attributes it is given, and the tensors are then collected from
    the stand-ins' `_parameters` and persistent `_buffers`, as `nn.Module.state_dict` would name them. (torch
    offers no reader for module pickles without importing their classes, hence this function.)

    Example:
        >>> load_pickled_module_state("densenet.pt")["features.conv0.weight"].shape  # doctest: +SKIP
        torch.Size([64, 1, 7, 7])
    """
    path = Path(path)
    names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    stand_ins = [(type(name.rpartition(".")[2], (_StandIn,), {}), name) for name in names]
    with refusing_pickled_objects(path), torch.serialization.safe_globals(stand_ins):
        content = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(content, Mapping):
        return unwrap_state_dict(content, path)
    state = _module_tensors(content, "")
    if not state:
        raise ValueError(f"{path}: holds a {type(content).__name__} without any parameters or buffers")
    return state


class _StandIn:
    """Takes the place of a pickled module class: keeps its attributes, runs nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, Mapping):
            self.__dict__.update(state)


def _module_tensors(module: Any, prefix: str) -> dict[str, torch.Tensor]:
    attributes = getattr(module, "__dict__", {})
    skip = attributes.get("_non_persistent_buffers_set") or set()
    state = {f"{prefix}{k}": v for k, v in (attributes.get("_parameters") or {}).items() if v is not None}
    state.update({f"{prefix}{k}": v for k, v in (attributes.get("_buffers") or {}).items()
                  if v is not None and k not in skip})
    for name, child in (attributes.get("_modules") or {}).items():
        if child is not None:
            state.update(_module_tensors(child, f"{prefix}{name}."))
    return {k: v.detach() if isinstance(v, torch.nn.Parameter) else v for k, v in state.items()}
