"""Verbs about what comes out: predict, explain, report, compare, export."""
