"""`medtl weights`: list every backbone x weights source and where its file is read from, import a
checkpoint into medtl's cache, fetch published weights where a network exists."""
from __future__ import annotations

import argparse
import json
import sys

from medtl.config_choices import BACKBONE_FAMILIES, WEIGHT_SOURCES


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `medtl weights list|import|fetch`.

    Example:
        >>> parser = argparse.ArgumentParser(prog="medtl")
        >>> add_parser(parser.add_subparsers())
        >>> parser.parse_args(["weights", "list"]).action
        'list'
    """
    parser = subparsers.add_parser("weights", help="pretrained weights: list, import, fetch")
    actions = parser.add_subparsers(dest="action", required=True)
    listed = actions.add_parser("list", help="every backbone x source, whether it is on this machine, and where from")
    listed.add_argument("--family", choices=BACKBONE_FAMILIES, help="only backbones built by this library")
    listed.add_argument("--source", choices=WEIGHT_SOURCES, help="only weights from this source")
    listed.add_argument("--json", action="store_true", help="print the rows as JSON")
    imported = actions.add_parser("import", help="add a checkpoint to medtl's cache after a test load")
    imported.add_argument("file", help="checkpoint (.pth, .pt, .ckpt, .bin, .safetensors)")
    imported.add_argument("--as", dest="name", required=True, help="cache name, used as weights='medtl:NAME'")
    imported.add_argument("--backbone", required=True, help="registry name of the architecture")
    imported.add_argument("--description", default="", help="stored in spec.json")
    imported.add_argument("--overwrite", action="store_true", help="replace cached weights of the same name")
    fetched = actions.add_parser("fetch", help="download a backbone's published weights (needs a network)")
    fetched.add_argument("name", help="backbone, e.g. resnet18 or resnet10_3d")
    fetched.add_argument("--source", default=None, help="imagenet, medicalnet, txv:NAME or hf:ORG/REPO[:FILE] (default: the backbone's own)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out `medtl weights <action>`; errors are printed, not raised, and give exit code 1.

    Example:
        >>> run(argparse.Namespace(action="list"))  # doctest: +SKIP
        0
    """
    from medtl.models import fetch_weights

    try:
        if args.action == "list":
            rows = weight_rows(args.family, args.source)
            print(json.dumps(rows, indent=2) if args.json else weights_table(rows))
        elif args.action == "import":
            print(import_checkpoint(args.file, args.name, args.backbone, args.description, args.overwrite))
        else:
            print(f"fetched: {fetch_weights(args.name, args.source)}")
    except (ValueError, OSError) as err:
        print(f"medtl weights {args.action}: error: {err}", file=sys.stderr)
        return 1
    return 0


def weight_rows(family: str | None = None, source: str | None = None) -> list[dict[str, str]]:
    """One dict per backbone x weights (backbone, family, source, weights, offline, path, terms), optionally only
    those of one backbone `family` (torchvision, monai, i3d, timm) or weights `source` (imagenet, txv, hf, ...).

    Example:
        >>> {row["weights"] for row in weight_rows(source="txv")} >= {"txv:resnet50-res512-all"}
        True
    """
    from medtl.models import cached_weights, get_spec, list_backbones
    from medtl.models.checkpoints.hf_hub import KNOWN_HF

    cached = cached_weights()
    rows: list[dict[str, str]] = []
    for name in [*list_backbones(), *(backbone for _, backbone, _ in KNOWN_HF)]:
        spec = get_spec(name)
        for kind in spec.weight_sources:
            for weights, offline, path, terms in _entries(spec, kind, cached):
                rows.append({"backbone": name, "family": spec.family, "source": kind, "weights": weights,
                             "offline": offline, "path": path, "terms": terms})
    return [row for row in rows if family in (None, row["family"]) and source in (None, row["source"])]


def _entries(spec, kind: str, cached: list[dict]) -> list[tuple[str, str, str, str]]:
    """(weights, offline yes/no, where read from, terms of use) of one backbone's source `kind`."""
    from medtl.models import medtl_home
    from medtl.models.checkpoints.hf_hub import DEFAULT_FILE, KNOWN_HF, hf_cache_folder, hf_cached_file
    from medtl.models.checkpoints.safe_load import CHECKPOINT_SUFFIXES
    from medtl.models.checkpoints.sources import backbones_whose_weights_fit, pretrained_file
    from medtl.models.checkpoints.txv import TXV_LICENSE, TXV_WEIGHTS, txv_folder

    if kind == "none":
        return [("none", "yes", "(fresh initialisation)", "")]
    if kind == "file":
        return [("file:PATH", "yes", f"PATH ({', '.join(CHECKPOINT_SUFFIXES)})", "")]
    if kind == "medtl":
        fits = backbones_whose_weights_fit(spec)
        mine = [entry for entry in cached if entry["backbone"] in fits]
        return [(f"medtl:{e['name']}", "yes", e["path"], "") for e in mine] or [
            ("medtl:NAME", "no", str(medtl_home() / "weights" / "NAME" / "model.safetensors"), "")]
    if kind == "txv":
        return [(f"txv:{w.name}", _offline(txv_folder() / w.file_name), str(txv_folder() / w.file_name), TXV_LICENSE)
                for w in TXV_WEIGHTS.values() if w.backbone == spec.name]
    if kind == "hf":
        known = [(repo, terms) for repo, backbone, terms in KNOWN_HF if backbone == spec.name]
        return [(f"hf:{repo}", _offline(hf_cached_file(repo, DEFAULT_FILE)), str(hf_cache_folder(repo)), terms)
                for repo, terms in known]
    path = pretrained_file(spec, kind)
    return [(kind, _offline(path), str(path), spec.license)]


def _offline(path) -> str:
    return "yes" if path is not None and path.is_file() else "no"


def weights_table(rows: list[dict[str, str]]) -> str:
    """`rows` (from `weight_rows`) as text: one line per backbone x weights, whether the file is on this machine
    and where it is read from; then the terms of use of each published source's weights, with their backbones.

    Example:
        >>> print(weights_table(weight_rows(source="imagenet")).splitlines()[0])  # doctest: +SKIP
        backbone          weights      offline  read from
    """
    table = [("backbone", "weights", "offline", "read from")]
    table += [(row["backbone"], row["weights"], row["offline"], row["path"]) for row in rows]
    terms: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        if row["terms"]:
            terms.setdefault((row["source"], row["terms"]), []).append(row["backbone"])
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[3] for line in table]
    lines.append("timm:<name>: any timm model; its weights are read from the Hugging Face cache "
                 "(hf:ORG/REPO[:FILE] for any hub checkpoint).")
    lines.append("terms of use of the published weights:")
    lines += [f"  {source} ({', '.join(dict.fromkeys(names))}): {text}" for (source, text), names in terms.items()]
    lines.append("  timm:<name>, hf:ORG/REPO: the license on the model's Hugging Face card")
    return "\n".join(lines)


def import_checkpoint(file: str, name: str, backbone: str, description: str = "", overwrite: bool = False) -> str:
    """Test-load `file` into `backbone` (raising on tensors that do not fit), then store the tensors that
    loaded as `medtl:<name>`. Returns the load report and the stored file.

    Example:
        >>> print(import_checkpoint("ckpt.pth", "chest", "resnet18"))  # doctest: +SKIP
    """
    from medtl.models import get_spec, store_weights
    from medtl.models.registry import build_backbone
    from medtl.models.checkpoints.safe_load import load_checkpoint
    from medtl.models.checkpoints.weights import load_weights

    spec = get_spec(backbone)
    model = build_backbone(spec, spec.in_chans, num_classes=2)
    report = load_weights(model, load_checkpoint(file), spec, f"file:{file}")
    loaded = set(report.loaded)
    state = {key: value for key, value in model.state_dict().items() if key in loaded}
    path = store_weights(name, state, backbone, description=description or f"imported from {file}",
                         overwrite=overwrite)
    return f"{report}\nstored as medtl:{name}: {path}"
