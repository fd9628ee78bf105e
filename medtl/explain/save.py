"""Write saliency to a run folder: explain/<case_id>.nii.gz (source geometry), .png (overlay) and summary.json."""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch

from medtl.explain.degenerate import degenerate_reason, reason_kind
from medtl.explain.faithfulness import energy_in_mask, pointing_game, randomization_correlations
from medtl.explain.geometry import InputGrid, resize_to_image, to_source_geometry
from medtl.explain.maps import ClassIndex, Models, predicted_class, saliency
from medtl.explain.overlay import overlay_png
from medtl.io.image import ImageData


def file_stem(identifier: str) -> str:
    """An id made safe as a file name: characters other than letters, digits, ".", "_" and "-" become "_".

    Example:
        >>> file_stem("P1/ct 2")
        'P1_ct_2'
    """
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(identifier))


def explain_paths(out_dir: str | Path, case_id: str) -> tuple[Path, Path]:
    """Where a case's overlay PNG and heatmap NIfTI live.

    Example:
        >>> [p.name for p in explain_paths("explain", "P1/ct 2")]
        ['P1_ct_2.png', 'P1_ct_2.nii.gz']
    """
    stem = file_stem(case_id)
    return Path(out_dir) / f"{stem}.png", Path(out_dir) / f"{stem}.nii.gz"


def save_heatmap(
    heatmap: np.ndarray | torch.Tensor, image: ImageData, out_path: str | Path, source_path: str | Path | None = None
) -> Path:
    """Save the heatmap as NIfTI in the geometry of the image's source file (default `image.meta["source"]`).

    Example:
        >>> img = ImageData(np.zeros((8, 8), np.float32), np.eye(4), (1.0, 1.0), {"source": "a.png"})
        >>> save_heatmap(np.random.rand(4, 4), img, tmp / "a.nii.gz").name  # doctest: +SKIP
        'a.nii.gz'
    """
    array, affine = to_source_geometry(heatmap, image, source_path or image.meta.get("source"))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(array.astype(np.float32), affine), str(out_path))
    return out_path


def save_overlay(heatmap: np.ndarray | torch.Tensor, image: ImageData, out_path: str | Path,
                 flag: str | None = None) -> Path:
    """Save a PNG of the heatmap over the image (a three-plane montage for volumes); a flagged map (`flag`: why
    it is no evidence) is not drawn, the image is captioned with the reason instead.

    Example:
        >>> img = ImageData(np.random.rand(16, 16).astype(np.float32), np.eye(4), (1.0, 1.0))
        >>> save_overlay(np.random.rand(8, 8), img, tmp / "a.png").suffix  # doctest: +SKIP
        '.png'
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(overlay_png(image.array, resize_to_image(heatmap, image), image.spacing, flag))
    return out_path


def explain_cases(
    model: Models,
    batch_images: torch.Tensor,
    image_data_list: Sequence[ImageData],
    case_ids: Sequence[str],
    masks: Sequence[np.ndarray | None] | None,
    out_dir: str | Path,
    target_layer: str | None,
    method: str = "gradcam",
    class_idx: ClassIndex = None,
    layers_to_reset: int = 2,
    grid: InputGrid | None = None,
) -> dict[str, Any]:
    """Explain a batch of cases: write <case_id>.png and <case_id>.nii.gz into `out_dir`, return the scores.

    `batch_images` is the model input (B, C, *spatial) made from `image_data_list` by the transform pipeline.
    `masks` (optional, one per case, None where absent) are lesion masks on the grid of each `ImageData.array`.
    The result holds, per case, pointing-game hits and their chance rate (mask area share), the heatmap energy
    inside the mask, the randomisation-test correlation (see `randomization_correlations`) and `degenerate`: why
    the map is no evidence (`medtl.explain.degenerate`), or None. A flagged map's overlay shows the image alone,
    captioned with the reason; its NIfTI is written as computed.
    Batches explained by different models (one per CV fold) are merged by `write_explain_summary`; a sequence
    of models explains their ensemble (see `medtl.explain.cam.saliency`). `grid` says how the inputs were made
    from the images (default: resized), so that maps land on the right voxels.

    Example:
        >>> part = explain_cases(model, x, images, ["c1", "c2"], None, run / "explain", "layer4")  # doctest: +SKIP
        >>> write_explain_summary([part], run / "explain")["randomization_spearman"] < 0.5  # doctest: +SKIP
        True
    """
    masks = [None] * len(case_ids) if masks is None else list(masks)
    if not len(case_ids) == len(image_data_list) == len(masks) == batch_images.shape[0]:
        raise ValueError(f"got {batch_images.shape[0]} images in the batch, {len(image_data_list)} ImageData, "
                         f"{len(case_ids)} case ids and {len(masks)} masks; they must match one to one")
    masks = [_checked_mask(m, image, c) for m, image, c in zip(masks, image_data_list, case_ids)]
    files = [explain_paths(out_dir, c) for c in case_ids]
    if len({png for png, _ in files}) != len(files):
        raise ValueError(f"case ids {list(case_ids)} are not unique as file names")
    classes = predicted_class(model, batch_images) if class_idx is None else class_idx
    maps = saliency(model, batch_images, target_layer, method, classes)
    correlations = randomization_correlations(model, batch_images, target_layer, method, layers_to_reset, classes,
                                              maps)
    cases = []
    for heatmap, x, r, image, case_id, mask, (png, nifti) in zip(
            maps.cpu(), batch_images.cpu(), correlations, image_data_list, case_ids, masks, files):
        r = float(r) if np.isfinite(r) else None
        flag = degenerate_reason(heatmap, x, r)
        on_image = resize_to_image(heatmap, image, grid)
        save_heatmap(on_image, image, nifti)
        save_overlay(on_image, image, png, flag)
        cases.append({"case_id": str(case_id), **_lesion_scores(on_image, mask), "randomization_spearman": r,
                      "degenerate": flag})
    finite = correlations[np.isfinite(correlations)]
    return {"method": method, "target_layer": target_layer, "layers_reset": layers_to_reset, "cases": cases,
            "randomization_spearman": float(finite.mean()) if finite.size else None}


def write_explain_summary(parts: Sequence[dict[str, Any]], out_dir: str | Path,
                          chosen_by: str | None = None) -> dict[str, Any]:
    """Merge the results of `explain_cases` calls into `out_dir/summary.json` and return it: pointing-game
    hit rate and its chance rate, mean energy in the lesion and its chance value (cases with masks), the
    randomisation correlation averaged over batches, weighted by their number of cases, the number of flagged
    (degenerate) maps with their reasons, and `chosen_by`: how the method and layer were chosen.

    Example:
        >>> part = {"method": "gradcam", "target_layer": "layer4", "layers_reset": 2, "randomization_spearman": 0.2,
        ...         "cases": [{"case_id": "a", "pointing_hit": True, "energy_in_mask": 0.5, "mask_fraction": 0.1,
        ...                    "degenerate": None}]}
        >>> write_explain_summary([part], tmp)["pointing_game_hit_rate"]  # doctest: +SKIP
        1.0
    """
    if not parts:
        raise ValueError("no explained cases to summarise")
    cases = [c for p in parts for c in p["cases"]]
    with_mask = [c for c in cases if c["pointing_hit"] is not None]
    rand = [(p["randomization_spearman"], len(p["cases"])) for p in parts if p["randomization_spearman"] is not None]
    flagged = [reason_kind(c["degenerate"]) for c in cases if c.get("degenerate")]
    summary = {
        "method": parts[0]["method"],
        "target_layer": parts[0]["target_layer"],
        "chosen_by": chosen_by,
        "n_cases": len(cases),
        "n_degenerate": len(flagged),
        "degenerate_reasons": {kind: flagged.count(kind) for kind in sorted(set(flagged))},
        "n_with_mask": len(with_mask),
        "pointing_game_hit_rate": _mean([c["pointing_hit"] for c in with_mask]),
        "pointing_game_chance": _mean([c["mask_fraction"] for c in with_mask]),
        "mean_energy_in_mask": _mean([c["energy_in_mask"] for c in with_mask]),
        "energy_in_mask_chance": _mean([c["mask_fraction"] for c in with_mask]),
        "randomization_spearman": float(np.average([r for r, _ in rand], weights=[n for _, n in rand])) if rand else None,
        "layers_reset": parts[0]["layers_reset"],
        "cases": cases,
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False))
    return summary


def _checked_mask(mask: np.ndarray | None, image: ImageData, case_id: str) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask) > 0
    if mask.shape != image.array.shape:
        raise ValueError(f"case {case_id}: mask shape {mask.shape} differs from its image {image.array.shape}")
    return mask


def _lesion_scores(on_image: np.ndarray, mask: np.ndarray | None) -> dict[str, Any]:
    # A case without a lesion (no mask, or an empty one) cannot be pointed at: it is left out of the scores.
    if mask is None or not mask.any():
        return {"pointing_hit": None, "energy_in_mask": None, "mask_fraction": None}
    return {
        "pointing_hit": pointing_game(on_image, mask),
        "energy_in_mask": energy_in_mask(on_image, mask),
        "mask_fraction": float(mask.mean()),
    }


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None
