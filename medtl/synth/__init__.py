"""Synthetic cohorts that look like real data to medtl's readers: chest X-rays (DICOM/PNG) and brain MRI
(NIfTI in the Medical Segmentation Decathlon layout, or DICOM series), with known findings and a learnable signal.

Example:
    >>> import tempfile
    >>> from medtl.synth import make_xray
    >>> (make_xray(tempfile.mkdtemp(), patients=4, size=32) / "findings.json").exists()
    True
"""
from medtl.synth.mri import make_mri
from medtl.synth.xray import make_xray

__all__ = ["make_mri", "make_xray"]
