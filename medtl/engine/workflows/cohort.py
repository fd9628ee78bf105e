"""The cases a run works on, read from its config."""
from __future__ import annotations

from pathlib import Path

from medtl.config import ExperimentConfig
from medtl.data import scan_folder
from medtl.data.case_table import CaseTable
from medtl.data.layouts.layout_unlabelled import scan_new_data
from medtl.data.scan import MANIFEST_NAME
from medtl.engine.tasks.findings import with_findings


def load_table(cfg: ExperimentConfig) -> CaseTable:
    """Scan `data.root` with the configured layout; for `task: multilabel`, the CSV manifest (`data.manifest`,
    else data.root/cases.csv) with its finding columns (`medtl.engine.tasks.findings`).

    Example:
        >>> load_table(ExperimentConfig.from_dict({"data": {"root": "data/xray"}}))  # doctest: +SKIP
        CaseTable(96 cases, 40 patients, classes=['nodule', 'normal'])
    """
    if not cfg["data.root"]:
        raise ValueError(f"{cfg.source}: data.root is not set; point it at the folder of images to use")
    if cfg["task"] == "multilabel":
        if cfg["data.layout"] not in ("auto", "csv"):
            raise ValueError(f"{cfg.source}: task multilabel reads its findings from a CSV manifest; data.layout "
                             f"{cfg['data.layout']!r} has none (use csv)")
        manifest = cfg["data.manifest"] or Path(cfg["data.root"]) / MANIFEST_NAME
        return with_findings(scan_new_data(manifest, layout="csv"), manifest)
    return scan_folder(cfg["data.root"], layout=cfg["data.layout"], manifest=cfg["data.manifest"])
