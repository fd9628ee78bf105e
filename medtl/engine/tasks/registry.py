"""The task a config names (`task:`), built on its cases."""
from __future__ import annotations

from medtl.config import ExperimentConfig
from medtl.data.case_table import CaseTable
from medtl.engine.tasks.classification import ClassificationTask
from medtl.engine.tasks.multilabel import MultiLabelTask
from medtl.engine.tasks.segmentation import SegmentationTask
from medtl.engine.tasks.task import Task

TASKS: dict[str, type[Task]] = {"classification": ClassificationTask, "segmentation": SegmentationTask,
                                "multilabel": MultiLabelTask}


def make_task(cfg: ExperimentConfig, table: CaseTable) -> Task:
    """The `Task` for `cfg["task"]` on `table`.

    Example:
        >>> cfg = ExperimentConfig.from_dict({"task": "multilabel", "data": {"root": "data/cxr14"}})
        >>> type(make_task(cfg, table)).__name__  # doctest: +SKIP
        'MultiLabelTask'
        >>> sorted(TASKS)
        ['classification', 'multilabel', 'segmentation']
    """
    if cfg["task"] not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}. Got {cfg['task']!r} instead.")
    return TASKS[cfg["task"]](cfg, table)
