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
        >>> make_task(ExperimentConfig.from_dict({"task": "survival"}), None)
        Traceback (most recent call last):
        ...
        ValueError: task must be one of ['classification', 'segmentation', 'multilabel']. Got 'survival' instead.
    """
    if cfg["task"] not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}. Got {cfg['task']!r} instead.")
    return TASKS[cfg["task"]](cfg, table)
