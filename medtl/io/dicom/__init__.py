"""DICOM reading: tags, pixels, series geometry, SEG/RTSTRUCT masks."""
