"""`hf:<org>/<repo>[:<file>]`: checkpoints on the Hugging Face hub, read from huggingface_hub's own cache, with
the key map that loads Hugging Face `Dinov2Model` checkpoints (RAD-DINO, facebook/dinov2-*) into timm's ViT."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import torch

from medtl.errors import MissingWeightsError
from medtl.models.checkpoints.safe_load import load_checkpoint
from medtl.models.spec import BackboneSpec

DEFAULT_FILE = "model.safetensors"
PREPROCESSOR_FILE = "preprocessor_config.json"
# Hub checkpoints `medtl weights list` names: (repo, the timm backbone they load into, terms of use).
KNOWN_HF = (
    ("microsoft/rad-dino", "timm:vit_base_patch14_dinov2",
     "MIT (RAD-DINO: a DINOv2 ViT-B/14 trained on chest X-rays, Hugging Face Dinov2Model format)"),
)
_HF_DINOV2 = "embeddings.patch_embeddings.projection.weight"
_WRAPPERS = ("dinov2.", "model.")
# Hugging Face Dinov2 names -> timm VisionTransformer names (q, k, v are concatenated into qkv separately).
_RENAMES = (
    (r"^embeddings\.cls_token$", "cls_token"),
    (r"^embeddings\.position_embeddings$", "pos_embed"),
    (r"^embeddings\.register_tokens$", "reg_token"),
    (r"^embeddings\.patch_embeddings\.projection\.", "patch_embed.proj."),
    (r"^encoder\.layer\.(\d+)\.norm([12])\.", r"blocks.\1.norm\2."),
    (r"^encoder\.layer\.(\d+)\.attention\.output\.dense\.", r"blocks.\1.attn.proj."),
    (r"^encoder\.layer\.(\d+)\.layer_scale([12])\.lambda1$", r"blocks.\1.ls\2.gamma"),
    (r"^encoder\.layer\.(\d+)\.mlp\.fc([12])\.", r"blocks.\1.mlp.fc\2."),
    (r"^layernorm\.", "norm."),
)
_QKV = re.compile(r"^encoder\.layer\.(\d+)\.attention\.attention\.(query|key|value)\.(weight|bias)$")


def parse_hf(argument: str) -> tuple[str, str]:
    """`<org>/<repo>[:<file>]` -> (repo id, file name; default model.safetensors).

    Example:
        >>> parse_hf("microsoft/rad-dino"), parse_hf("timm/vit_small_patch16_224.augreg_in21k:pytorch_model.bin")
        (('microsoft/rad-dino', 'model.safetensors'), ('timm/vit_small_patch16_224.augreg_in21k', 'pytorch_model.bin'))
    """
    repo_id, _, file_name = argument.partition(":")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"weights 'hf:{argument}': must be hf:<org>/<repo>[:<file>], e.g. hf:microsoft/rad-dino")
    return repo_id, file_name or DEFAULT_FILE


def hf_cached_file(repo_id: str, file_name: str) -> Path | None:
    """The file in huggingface_hub's cache (`$HF_HUB_CACHE`), or None when it is not there. Never downloads.

    Example:
        >>> hf_cached_file("microsoft/rad-dino", "model.safetensors")  # doctest: +SKIP
        PosixPath('/home/me/.cache/huggingface/hub/models--microsoft--rad-dino/snapshots/<commit>/model.safetensors')
    """
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(repo_id, file_name)
    return Path(cached) if isinstance(cached, str) else None


def hf_cache_folder(repo_id: str) -> Path:
    """Where huggingface_hub keeps `repo_id` (its snapshots hold the files).

    Example:
        >>> hf_cache_folder("microsoft/rad-dino").name
        'models--microsoft--rad-dino'
    """
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}"


def hf_spec(spec: BackboneSpec, argument: str) -> BackboneSpec:
    """`spec` with the input convention of hub checkpoint `argument` when its `preprocessor_config.json` (the
    Hugging Face image processor's settings) is in the cache: its `image_mean`, `image_std` and `crop_size`
    (RAD-DINO's chest X-ray statistics differ from ImageNet's). Without that file, `spec` unchanged.

    Example:
        >>> hf_spec(get_spec("timm:vit_base_patch14_dinov2"), "microsoft/rad-dino").mean  # doctest: +SKIP
        (0.5307, 0.5307, 0.5307)
    """
    repo_id, _ = parse_hf(argument)
    path = hf_cached_file(repo_id, PREPROCESSOR_FILE)
    if path is None:
        return spec
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    changes: dict = {}
    if config.get("image_mean") and config.get("image_std"):
        changes.update(mean=tuple(float(v) for v in config["image_mean"]),
                       std=tuple(float(v) for v in config["image_std"]))
        changes["in_chans"] = len(changes["mean"])
    crop = config.get("crop_size")
    if isinstance(crop, dict) and {"height", "width"} <= set(crop):
        changes["input_size"] = (int(crop["height"]), int(crop["width"]))
    elif isinstance(crop, int):
        changes["input_size"] = (crop, crop)
    return dataclasses.replace(spec, **changes)


def hf_file(spec_name: str, argument: str) -> Path:
    """The hub-cache file `hf:<argument>` names, after checking it is there (else `MissingWeightsError` with the
    file and the cache folder to put it in).

    Example:
        >>> hf_file("timm:vit_base_patch14_dinov2", "microsoft/rad-dino")  # doctest: +SKIP
        PosixPath('/home/me/.cache/huggingface/hub/models--microsoft--rad-dino/snapshots/<commit>/model.safetensors')
    """
    repo_id, file_name = parse_hf(argument)
    path = hf_cached_file(repo_id, file_name)
    if path is None:
        raise MissingWeightsError(
            f"{spec_name}: weights hf:{argument} are not in the Hugging Face cache. Put '{file_name}' of "
            f"https://huggingface.co/{repo_id} in {hf_cache_folder(repo_id)}/snapshots/<commit>/ (with "
            f"`huggingface-cli download {repo_id} {file_name}` or `medtl weights fetch {spec_name} --source "
            f"hf:{argument}` where a network is available; building a model never downloads).")
    return path


def read_hf(spec_name: str, argument: str) -> tuple[dict[str, torch.Tensor], str]:
    """The state dict of `hf:<argument>` from the local hub cache, Dinov2 checkpoints renamed to timm's keys.

    Example:
        >>> state, where = read_hf("timm:vit_base_patch14_dinov2", "microsoft/rad-dino")  # doctest: +SKIP
        >>> state["blocks.0.attn.qkv.weight"].shape  # doctest: +SKIP
        torch.Size([2304, 768])
    """
    path = hf_file(spec_name, argument)
    state = load_checkpoint(path)
    return timm_keys_from_hf_dinov2(state), f"hf:{argument} from {path}"


def timm_keys_from_hf_dinov2(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A Hugging Face `Dinov2Model` state dict renamed to timm's `VisionTransformer` keys (query, key and value
    concatenated into `qkv`; the training-only `mask_token` dropped); any other state dict is returned as is.
    Written here because timm converts only Meta's original DINOv2 layout.

    Example:
        >>> hf = {"embeddings.patch_embeddings.projection.weight": torch.zeros(8, 3, 14, 14),
        ...       "encoder.layer.0.attention.attention.query.weight": torch.zeros(8, 8),
        ...       "encoder.layer.0.attention.attention.key.weight": torch.ones(8, 8),
        ...       "encoder.layer.0.attention.attention.value.weight": torch.ones(8, 8)}
        >>> sorted(timm_keys_from_hf_dinov2(hf))
        ['blocks.0.attn.qkv.weight', 'patch_embed.proj.weight']
    """
    for prefix in _WRAPPERS:
        if f"{prefix}{_HF_DINOV2}" in state:
            state = {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}
    if _HF_DINOV2 not in state:
        return state
    out: dict[str, torch.Tensor] = {}
    qkv: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        match = _QKV.match(key)
        if match:
            qkv.setdefault((match[1], match[3]), {})[match[2]] = value
            continue
        if key == "embeddings.mask_token":
            continue
        renamed = next((re.sub(pattern, target, key) for pattern, target in _RENAMES if re.match(pattern, key)), key)
        out[renamed] = value
    for (block, kind), parts in qkv.items():
        out[f"blocks.{block}.attn.qkv.{kind}"] = torch.cat([parts["query"], parts["key"], parts["value"]])
    return out
