"""Cases in, tables out: scanning dataset folders into a validated `CaseTable`.

Example:
    >>> from medtl.data import scan_folder, summarize
    >>> print(summarize(scan_folder("chest_xrays")))  # doctest: +SKIP
"""
from medtl.data.case_table import CaseTable, Problem
from medtl.data.scan import scan_folder
from medtl.data.summary import summarize

__all__ = ["CaseTable", "Problem", "scan_folder", "summarize"]
