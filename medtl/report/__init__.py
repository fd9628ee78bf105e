"""Reports a clinician can read: per-patient tables (CSV/JSON) and static HTML pages with the cohort's figures.

`write_patients_table` aggregates image predictions per patient; `write_report` writes a run's reports/index.html
and one page per patient, optionally with keyed pseudonyms (`pseudonym`) in place of every id;
`write_predictions_report` does the same for any predictions table, labelled or not (`medtl predict`).
"""
from medtl.report.html import CohortSummary, read_cohort_summary, write_predictions_report, write_report
from medtl.report.patients import patient_table, probability_column, write_patients_table
from medtl.report.plots import confusion_png, data_uri, reliability_png, roc_png
from medtl.report.pseudonymize import pseudonym, pseudonymize_ids

__all__ = [
    "CohortSummary",
    "confusion_png",
    "data_uri",
    "patient_table",
    "probability_column",
    "pseudonym",
    "pseudonymize_ids",
    "read_cohort_summary",
    "reliability_png",
    "roc_png",
    "write_patients_table",
    "write_predictions_report",
    "write_report",
]
