"""A MONAI bundle around an exported TorchScript model: `configs/metadata.json`, `configs/inference.json` and
`models/model.ts`, runnable without medtl by

    python -m monai.bundle run --config_file configs/inference.json --meta_file configs/metadata.json \
        --bundle_root BUNDLE --image chest.png --output_file predictions.json
"""
from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import monai
import numpy
import torch

BUNDLE_VERSION = "0.1.0"


def _transforms(info: dict[str, Any]) -> list[dict[str, Any]]:
    """MONAI transform configs for the sidecar's intensity steps; 2D images are read by PIL as displayed
    (rows, columns), in one grey channel, as medtl reads them."""
    spatial = len(info["input"]["shape"]) - 2
    if spatial == 2:
        load = {"_target_": "LoadImaged", "keys": "image", "image_only": True, "ensure_channel_first": True,
                "reader": "PILReader", "reverse_indexing": False, "converter": "$lambda im: im.convert('F')"}
        steps = [load]
    else:
        steps = [{"_target_": "LoadImaged", "keys": "image", "image_only": True, "ensure_channel_first": True,
                  "reader": "NibabelReader"},
                 {"_target_": "Orientationd", "keys": "image", "axcodes": "RAS"}]
    for step in info["intensity_steps"][1:]:
        arguments = {k: v for k, v in step.items() if k not in ("transform", "note")}
        steps.append({"_target_": f"{step['transform']}d", "keys": "image", **arguments})
    steps.append({"_target_": "EnsureTyped", "keys": "image", "dtype": "$torch.float32", "track_meta": False})
    return steps


def inference_config(info: dict[str, Any]) -> dict[str, Any]:
    """`configs/inference.json`: read `@image`, preprocess as in training, run `models/model.ts`, write the class
    probabilities to `@output_file` as JSON.

    Example:
        >>> inference_config(info)["network"]  # doctest: +SKIP
        "$torch.jit.load(@bundle_root + '/models/model.ts', map_location=@device)"
    """
    return {
        "imports": ["$import json", "$import torch"],
        "bundle_root": ".",
        "device": "$torch.device('cpu')",
        "image": "",
        "output_file": "$@bundle_root + '/predictions.json'",
        "classes": info["classes"],
        "threshold": info["threshold"],
        "network": "$torch.jit.load(@bundle_root + '/models/model.ts', map_location=@device).eval()",
        "preprocessing": {"_target_": "Compose", "transforms": _transforms(info)},
        "probabilities": "$@network(@preprocessing({'image': @image})['image'][None].to(@device))[0].tolist()",
        "run": ["$json.dump({'image': @image, 'classes': @classes, 'threshold': @threshold, "
                "'probabilities': dict(zip(@classes, @probabilities))}, open(@output_file, 'w'), indent=2)"],
    }


def metadata(info: dict[str, Any]) -> dict[str, Any]:
    """`configs/metadata.json` in the MONAI bundle schema's terms.

    Example:
        >>> metadata(info)["network_data_format"]["outputs"]["pred"]["num_channels"]  # doctest: +SKIP
        2
    """
    classes = info["classes"]
    return {
        "version": BUNDLE_VERSION, "changelog": {BUNDLE_VERSION: "exported by medtl"},
        "monai_version": monai.__version__, "pytorch_version": torch.__version__.split("+")[0],
        "numpy_version": numpy.__version__, "python_version": platform.python_version(),
        "required_packages_version": {"pillow": "", "nibabel": ""},
        "task": f"classification: {', '.join(classes)}",
        "description": f"{info['model_kind']}; backbone {info['backbone']}, weights {info['weights_source']}",
        "authors": "exported with medtl", "copyright": "see the training data's and the weights' terms",
        "network_data_format": {
            "inputs": {"image": {"type": "image", "format": "magnitude", "modality": "any", "num_channels": 1,
                                 "spatial_shape": info["input"]["shape"][2:], "dtype": "float32",
                                 "value_range": [], "is_patch_data": False, "channel_def": {"0": "image"}}},
            "outputs": {"pred": {"type": "probabilities", "format": "classes", "num_channels": len(classes),
                                 "spatial_shape": [1], "dtype": "float32", "value_range": [0, 1],
                                 "is_patch_data": False,
                                 "channel_def": {str(i): name for i, name in enumerate(classes)}}},
        },
    }


def write_bundle(folder: Path, info: dict[str, Any]) -> None:
    """Write the two configs into `folder/configs` (the model is already at `folder/models/model.ts`).

    Example:
        >>> write_bundle(Path("export-bundle"), info)  # doctest: +SKIP
    """
    configs = folder / "configs"
    configs.mkdir(parents=True, exist_ok=True)
    (configs / "metadata.json").write_text(json.dumps(metadata(info), indent=2))
    (configs / "inference.json").write_text(json.dumps(inference_config(info), indent=2))
