"""Keyed pseudonyms for patient and case ids, so a report can leave the hospital without its identifiers."""
from __future__ import annotations

import hashlib
import hmac

import pandas as pd

ID_COLUMNS = ("patient_id", "case_id")
PSEUDONYM_LENGTH = 12


def pseudonym(identifier: str, key: str) -> str:
    """First 12 hex digits of HMAC-SHA256(key, identifier): stable for one key, unguessable without it.

    Example:
        >>> pseudonym("P001", "secret")
        '3b54e306f23c'
    """
    if not key:
        raise ValueError("the pseudonymisation key must be a non-empty string")
    return hmac.new(key.encode(), str(identifier).encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]


def pseudonymize_ids(table: pd.DataFrame, key: str, columns: tuple[str, ...] = ID_COLUMNS) -> pd.DataFrame:
    """A copy of the table with each id column present replaced by its keyed pseudonym.

    Example:
        >>> pseudonymize_ids(pd.DataFrame({"patient_id": ["P001"], "p_x": [0.3]}), "secret").patient_id.tolist()
        ['3b54e306f23c']
    """
    table = table.copy()
    for column in columns:
        if column in table:
            table[column] = table[column].map(lambda value: pseudonym(value, key))
    return table
