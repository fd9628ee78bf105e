"""Which classes a task has and which one is positive."""
from __future__ import annotations

from medtl.data.case_table import CaseTable

NEGATIVE_NAMES = frozenset({"normal", "negative", "healthy", "control", "no_finding", "nofinding", "benign", "0", "false"})


def resolve_classes(table: CaseTable, positive: str | None) -> tuple[list[str], str | None]:
    """(classes in column order, the positive class for binary tasks, None for multi-class).

    Binary: `positive` if given, else the one class whose name is not a usual negative name
    (normal, negative, healthy, ...), else the second in sorted order.

    Example:
        >>> import pandas as pd
        >>> t = CaseTable(pd.DataFrame({"case_id": list("ab"), "patient_id": list("ab"), "image": list("ab"),
        ...                             "label": ["nodule", "normal"]}))
        >>> resolve_classes(t, None)
        (['normal', 'nodule'], 'nodule')
    """
    classes = table.classes
    if len(classes) < 2:
        raise ValueError(f"a classification task needs at least two labels; the table has {classes or 'none'}")
    if positive is not None and positive not in classes:
        raise ValueError(f"data.positive_label must be one of {classes}. Got {positive!r} instead.")
    if len(classes) > 2:
        return classes, positive
    if positive is None:
        non_negative = [c for c in classes if c.lower() not in NEGATIVE_NAMES]
        positive = non_negative[0] if len(non_negative) == 1 else classes[1]
    negative = next(c for c in classes if c != positive)
    return [negative, positive], positive
