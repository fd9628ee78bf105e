"""The cases a run works on, read from its config."""
from __future__ import annotations

from medtl.config import ExperimentConfig
from medtl.data import scan_folder
from medtl.data.case_table import CaseTable


def load_table(cfg: ExperimentConfig) -> CaseTable:
    """Scan `data.root` with the configured layout.

    Example:
        >>> load_table(ExperimentConfig.from_dict({"data": {"root": "data/xray"}}))  # doctest: +SKIP
        CaseTable(96 cases, 40 patients, classes=['nodule', 'normal'])
    """
    if not cfg["data.root"]:
        raise ValueError(f"{cfg.source}: data.root is not set; point it at the folder of images to use")
    return scan_folder(cfg["data.root"], layout=cfg["data.layout"], manifest=cfg["data.manifest"])
