"""Weight sources, one syntax: "none", "imagenet", "medicalnet", "txv:NAME", "hf:ORG/REPO[:FILE]", "file:PATH",
"medtl:NAME".

Everything here reads local files only. Pretrained files are looked for where their publisher's own tools
cache them (torch.hub for torchvision, the Hugging Face cache for timm and `hf:`, `~/.torchxrayvision` for
TorchXRayVision, `$MEDTL_HOME/medicalnet` for MedicalNet); a missing file is an error that names the file and
the folder, and `medtl weights fetch` downloads it where a network exists (`medtl.models.checkpoints.fetch`).
"""
from __future__ import annotations

from pathlib import Path

import torch

from medtl.config_choices import WEIGHT_SOURCES
from medtl.errors import MissingWeightsError
from medtl.models.checkpoints.cache import cached_entry, medtl_home, read_cached_weights
from medtl.models.checkpoints.hf_hub import hf_file, hf_spec, read_hf
from medtl.models.checkpoints.published_checksum import verify_published
from medtl.models.checkpoints.safe_load import load_checkpoint
from medtl.models.spec import BackboneSpec
from medtl.models.torchvision_2d import read_imagenet_weights
from medtl.models.checkpoints.txv import read_txv, txv_file, txv_spec

SOURCES = WEIGHT_SOURCES
_WITH_ARGUMENT = {"file": "file:PATH", "medtl": "medtl:NAME", "txv": "txv:NAME", "hf": "hf:ORG/REPO[:FILE]"}
HF_PREFIX = "hf-hub:"
CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin", ".safetensors")


def parse_weights(spec: BackboneSpec, weights: str) -> tuple[str, str]:
    """`weights` split into (source, argument), checked against the sources `spec` supports.
    A bare path to a checkpoint file (ending in one of `CHECKPOINT_SUFFIXES`) is read as `file:PATH`.

    Example:
        >>> from medtl.models import get_spec
        >>> parse_weights(get_spec("resnet18"), "file:/tmp/w.pth"), parse_weights(get_spec("resnet18"), "/tmp/w.pth")
        (('file', '/tmp/w.pth'), ('file', '/tmp/w.pth'))
    """
    accepted = {_WITH_ARGUMENT.get(source, source) for source in spec.weight_sources}
    if str(weights).endswith(CHECKPOINT_SUFFIXES) and ":" not in str(weights).split("/")[0]:
        weights = f"file:{weights}"
    source, _, argument = str(weights).partition(":")
    if source not in spec.weight_sources or bool(argument) != (source in _WITH_ARGUMENT):
        raise ValueError(f"{spec.name}: weights must be one of {accepted}. Got {weights!r} instead.")
    return source, argument


def spec_for_weights(spec: BackboneSpec, weights: str) -> BackboneSpec:
    """`spec` as the weights `weights` expect their input: TorchXRayVision's one channel at 224 or 512 px in
    [-1024, 1024]; a hub checkpoint's image processor settings where they are cached (`hf_spec`); other sources
    keep the backbone's own spec.

    Example:
        >>> from medtl.models import get_spec
        >>> spec_for_weights(get_spec("densenet121"), "txv:densenet121-res224-all").std
        (0.00048828125,)
        >>> spec_for_weights(get_spec("densenet121"), "imagenet").std
        (0.229, 0.224, 0.225)
    """
    source, argument = parse_weights(spec, weights)
    if source == "txv":
        return txv_spec(spec, argument)
    return hf_spec(spec, argument) if source == "hf" else spec


def pretrained_file(spec: BackboneSpec, source: str) -> Path:
    """Where the pretrained file for `source` ("imagenet", "medicalnet") is read from, present or not.

    Example:
        >>> from medtl.models import get_spec
        >>> pretrained_file(get_spec("resnet18"), "imagenet").name
        'resnet18-f37072fd.pth'
    """
    weights = spec.pretrained_for(source)
    if source == "medicalnet":
        return medtl_home() / "medicalnet" / weights.file_name
    if weights.url.startswith(HF_PREFIX):
        return _hf_cached_file(weights.url.removeprefix(HF_PREFIX), weights.file_name)
    return Path(torch.hub.get_dir()) / "checkpoints" / weights.file_name


def locate_weights(spec: BackboneSpec, weights: str) -> Path | None:
    """The file `weights` names for `spec` (None for "none"), after checking it is there: raises the error
    `read_weights` would raise for a missing file or a cached entry of another backbone, without reading it.

    Example:
        >>> from medtl.models import get_spec
        >>> locate_weights(get_spec("resnet18"), "none") is None
        True
        >>> locate_weights(get_spec("resnet18"), "file:/nowhere/w.pth")
        Traceback (most recent call last):
        ...
        medtl.errors.MissingWeightsError: /nowhere/w.pth: no such checkpoint file
    """
    source, argument = parse_weights(spec, weights)
    if source == "none":
        return None
    if source == "file":
        path = Path(argument).expanduser()
        if not path.is_file():
            raise MissingWeightsError(f"{path}: no such checkpoint file")
        return path
    if source == "medtl":
        info, path = cached_entry(argument)
        _check_fits(spec, argument, info)
        return path
    if source == "txv":
        return txv_file(spec, argument)
    if source == "hf":
        return hf_file(spec.name, argument)
    path = pretrained_file(spec, source)
    if not path.is_file():
        raise MissingWeightsError(_missing_message(spec, source, path))
    return path


def read_weights(spec: BackboneSpec, weights: str) -> tuple[dict[str, torch.Tensor], str]:
    """The state dict `weights` names for `spec`, and a one-line description of where it came from.

    Example:
        >>> from medtl.models import get_spec
        >>> state, where = read_weights(get_spec("resnet18"), "imagenet")  # doctest: +SKIP
    """
    source, argument = parse_weights(spec, weights)
    if source == "none":
        raise ValueError(f"{spec.name}: weights='none' has no state dict to read.")
    if source == "file":
        path = Path(argument).expanduser()
        return load_checkpoint(path), f"file:{path}"
    if source == "medtl":
        return _read_medtl(spec, argument)
    if source == "txv":
        return read_txv(spec, argument)
    if source == "hf":
        return read_hf(spec.name, argument)
    path = locate_weights(spec, weights)
    published = spec.pretrained_for(source)
    where = f"{source} ({published.name}) from {path}"
    if source == "medicalnet":
        where = f"{where}; {verify_published(path)}"
    if spec.family in ("torchvision", "i3d"):
        return read_imagenet_weights(spec, path), where
    return load_checkpoint(path), where


def _missing_message(spec: BackboneSpec, source: str, path: Path) -> str:
    published = spec.pretrained_for(source)
    fetch = (f"or run `medtl weights fetch {spec.name}` where a network is available "
             "(building a model never downloads)")
    if published.url.startswith(HF_PREFIX):
        return (f"{spec.name}: {source} weights {published.name} are not in the Hugging Face cache "
                f"{path.parents[2]}. Download '{published.file_name}' from "
                f"https://huggingface.co/{published.url.removeprefix(HF_PREFIX)} and use weights='file:PATH', {fetch}.")
    return (f"{spec.name}: {source} weights {published.name} are not on this machine. Put the file "
            f"'{published.file_name}' (from {published.url}) in the folder {path.parent}, {fetch}.")


def backbones_whose_weights_fit(spec: BackboneSpec) -> set[str]:
    """Backbone names whose stored weights load into `spec`: itself, and for `i3d:` the 2D network.

    Example:
        >>> from medtl.models import get_spec
        >>> sorted(backbones_whose_weights_fit(get_spec("i3d:resnet18")))
        ['i3d:resnet18', 'resnet18']
    """
    return {spec.name, spec.architecture} if spec.family == "i3d" else {spec.name}


def _read_medtl(spec: BackboneSpec, name: str) -> tuple[dict[str, torch.Tensor], str]:
    state, info = read_cached_weights(name)
    _check_fits(spec, name, info)
    return state, f"medtl:{name} ({info['backbone']}, sha256 {info['sha256'][:12]})"


def _hf_cached_file(repo_id: str, file_name: str) -> Path:
    from huggingface_hub import constants, try_to_load_from_cache  # comes with timm, which medtl does not require

    cached = try_to_load_from_cache(repo_id, file_name)
    if isinstance(cached, str):
        return Path(cached)
    return Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}" / "snapshots" / file_name


def _check_fits(spec: BackboneSpec, name: str, info: dict) -> None:
    fits = backbones_whose_weights_fit(spec)
    if info.get("backbone") not in fits:
        raise ValueError(f"medtl:{name} holds weights for backbone {info.get('backbone')!r}; "
                         f"it must be one of {fits} to load into {spec.name}.")
