"""`medtl weights`: list every backbone x weights source and where its file is read from, import a
checkpoint into medtl's cache, fetch published weights where a network exists."""
from __future__ import annotations

import argparse
import sys


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
    actions.add_parser("list", help="every backbone x source, whether it is on this machine, and where from")
    imported = actions.add_parser("import", help="add a checkpoint to medtl's cache after a test load")
    imported.add_argument("file", help="checkpoint (.pth, .pt, .ckpt, .bin, .safetensors)")
    imported.add_argument("--as", dest="name", required=True, help="cache name, used as weights='medtl:NAME'")
    imported.add_argument("--backbone", required=True, help="registry name of the architecture")
    imported.add_argument("--description", default="", help="stored in spec.json")
    imported.add_argument("--overwrite", action="store_true", help="replace cached weights of the same name")
    fetched = actions.add_parser("fetch", help="download a backbone's published weights (needs a network)")
    fetched.add_argument("name", help="backbone, e.g. resnet18 or resnet10_3d")
    fetched.add_argument("--source", default=None, help="imagenet or medicalnet (default: the backbone's own)")
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
            print(weights_table())
        elif args.action == "import":
            print(import_checkpoint(args.file, args.name, args.backbone, args.description, args.overwrite))
        else:
            print(f"fetched: {fetch_weights(args.name, args.source)}")
    except (ValueError, OSError) as err:
        print(f"medtl weights {args.action}: error: {err}", file=sys.stderr)
        return 1
    return 0


def weights_table() -> str:
    """One line per backbone x weights source: on this machine or not, and where it is read from; then the
    terms of use of each published source's weights, with the backbones they cover.

    Example:
        >>> print(weights_table().splitlines()[0])  # doctest: +SKIP
        backbone          weights      offline  read from
    """
    from medtl.models import cached_weights, get_spec, list_backbones, medtl_home
    from medtl.models.safe_load import CHECKPOINT_SUFFIXES
    from medtl.models.sources import backbones_whose_weights_fit, pretrained_file

    cached = cached_weights()
    rows = [("backbone", "weights", "offline", "read from")]
    terms: dict[tuple[str, str], list[str]] = {}
    for name in list_backbones():
        spec = get_spec(name)
        for source in spec.weight_sources:
            if source == "none":
                rows.append((name, source, "yes", "(fresh initialisation)"))
            elif source == "file":
                rows.append((name, "file:PATH", "yes", f"PATH ({', '.join(CHECKPOINT_SUFFIXES)})"))
            elif source == "medtl":
                fits = backbones_whose_weights_fit(spec)
                mine = [entry for entry in cached if entry["backbone"] in fits]
                rows += [(name, f"medtl:{e['name']}", "yes", e["path"]) for e in mine] or [
                    (name, "medtl:NAME", "no", str(medtl_home() / "weights" / "NAME" / "model.safetensors"))]
            else:
                path = pretrained_file(spec, source)
                rows.append((name, source, "yes" if path.is_file() else "no", str(path)))
                terms.setdefault((source, spec.license), []).append(name)
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3] for row in rows]
    lines.append("timm:<name>: any timm model; its weights are read from the Hugging Face cache.")
    lines.append("terms of use of the published weights:")
    lines += [f"  {source} ({', '.join(names)}): {text}" for (source, text), names in terms.items()]
    lines.append("  timm:<name>: the license on the model's Hugging Face card")
    return "\n".join(lines)


def import_checkpoint(file: str, name: str, backbone: str, description: str = "", overwrite: bool = False) -> str:
    """Test-load `file` into `backbone` (raising on tensors that do not fit), then store the tensors that
    loaded as `medtl:<name>`. Returns the load report and the stored file.

    Example:
        >>> print(import_checkpoint("ckpt.pth", "chest", "resnet18"))  # doctest: +SKIP
    """
    from medtl.models import get_spec, store_weights
    from medtl.models.registry import build_backbone
    from medtl.models.safe_load import load_checkpoint
    from medtl.models.weights import load_weights

    spec = get_spec(backbone)
    model = build_backbone(spec, spec.in_chans, num_classes=2)
    report = load_weights(model, load_checkpoint(file), spec, f"file:{file}")
    loaded = set(report.loaded)
    state = {key: value for key, value in model.state_dict().items() if key in loaded}
    path = store_weights(name, state, backbone, description=description or f"imported from {file}",
                         overwrite=overwrite)
    return f"{report}\nstored as medtl:{name}: {path}"
