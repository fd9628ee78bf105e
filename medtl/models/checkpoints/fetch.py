"""`fetch_weights`: the one place medtl downloads, through torchvision's, timm's and torch.hub's own APIs."""
from __future__ import annotations

from pathlib import Path

import torch

from medtl.models.checkpoints.hf_hub import hf_cached_file, parse_hf
from medtl.models.checkpoints.published_checksum import published_sha256, record_path, write_record
from medtl.models.registry import get_spec
from medtl.models.checkpoints.sources import parse_weights, pretrained_file
from medtl.models.checkpoints.txv import txv_folder, txv_weights
from medtl.models.timm_2d import download_timm_weights
from medtl.models.torchvision_2d import download_imagenet_weights


def fetch_weights(name: str, source: str | None = None) -> Path:
    """Download backbone `name`'s pretrained weights (`source`, default its first published one) into the
    cache they are read from, and return the file. Needs a network; a file already there is kept.
    `source` may also be "txv:NAME" (into ~/.torchxrayvision/models_data) or "hf:ORG/REPO[:FILE]" (into the
    Hugging Face cache).

    Example:
        >>> fetch_weights("resnet10_3d")  # doctest: +SKIP
        PosixPath('/home/me/.cache/medtl/medicalnet/resnet_10_23dataset.pth')
    """
    spec = get_spec(name)
    if source and source.startswith(("txv:", "hf:")):
        return _fetch_named(spec, source)
    if not spec.pretrained:
        raise ValueError(f"{name} has no published weights to fetch (sources: {spec.weight_sources}).")
    published = spec.pretrained_for(source or spec.pretrained[0].source)
    path = pretrained_file(spec, published.source)
    if path.is_file():
        return path
    try:
        if spec.family in ("torchvision", "i3d"):
            download_imagenet_weights(spec)
        elif spec.family == "timm":
            download_timm_weights(spec)
        else:  # MedicalNet, from the Hugging Face hub: its published sha256 is checked and recorded
            path.parent.mkdir(parents=True, exist_ok=True)
            sha256 = published_sha256(published.url)
            torch.hub.download_url_to_file(published.url, str(path), progress=True)
            try:
                write_record(path, sha256)
            except ValueError:
                path.unlink()
                record_path(path).unlink()
                raise
    except OSError as err:
        raise ConnectionError(f"could not download {published.url} into {path.parent}: {err}. Without a network, "
                              f"copy '{published.file_name}' into {path.parent} by hand.") from err
    return pretrained_file(spec, published.source)


def _fetch_named(spec, source: str) -> Path:
    kind, argument = parse_weights(spec, source)
    if kind == "hf":
        repo_id, file_name = parse_hf(argument)
        from huggingface_hub import hf_hub_download

        return hf_cached_file(repo_id, file_name) or Path(hf_hub_download(repo_id, file_name))
    published = txv_weights(spec, argument)
    path = txv_folder() / published.file_name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(published.url, str(path), progress=True)
        except OSError as err:
            raise ConnectionError(f"could not download {published.url} into {path.parent}: {err}. Without a "
                                  f"network, copy '{published.file_name}' into {path.parent} by hand.") from err
    return path
