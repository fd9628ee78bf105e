"""What differs per task (classification, segmentation, multi-label): items, loss, validation, prediction, summary."""
