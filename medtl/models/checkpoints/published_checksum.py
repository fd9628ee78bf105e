"""Published checksums of downloaded weights (MedicalNet's files on the Hugging Face hub): recorded beside the file
when `medtl weights fetch` downloads it, checked every time the file is read."""
from __future__ import annotations

from pathlib import Path

from medtl.models.checkpoints.cache import file_sha256

RECORD_SUFFIX = ".sha256"


def record_path(path: Path) -> Path:
    """The file holding `path`'s published sha256.

    Example:
        >>> record_path(Path("medicalnet/resnet_10_23dataset.pth")).name
        'resnet_10_23dataset.pth.sha256'
    """
    return path.with_name(path.name + RECORD_SUFFIX)


def published_sha256(url: str) -> str:
    """The sha256 the Hugging Face hub publishes for the file at `url` (its LFS object id; needs a network).

    Example:
        >>> published_sha256("https://huggingface.co/TencentMedicalNet/MedicalNet-Resnet10/resolve/main/resnet_10_23dataset.pth")  # doctest: +SKIP
        '...64 hex digits...'
    """
    from huggingface_hub import get_hf_file_metadata

    etag = (get_hf_file_metadata(url).etag or "").strip('"')
    if len(etag) != 64:
        raise ValueError(f"{url}: the hub publishes no sha256 for this file (etag {etag!r})")
    return etag


def verify_published(path: Path) -> str:
    """Check `path` against the published sha256 recorded beside it; a one-line note for the load report.
    A file whose content differs is refused, naming both checksums.

    Example:
        >>> verify_published(Path("~/.cache/medtl/medicalnet/resnet_10_23dataset.pth"))  # doctest: +SKIP
        'sha256 matches the published 6c5e...'
    """
    record = record_path(path)
    if not record.is_file():
        return f"sha256 not checked: no published checksum recorded in {record.name} (`medtl weights fetch` records it)"
    expected, actual = record.read_text().split()[0].lower(), file_sha256(path)
    if actual != expected:
        raise ValueError(f"{path}: refused: its sha256 is {actual}, but the published checksum in {record} is "
                         f"{expected}. The file is damaged or not the published one; delete it and fetch it again.")
    return f"sha256 matches the published {expected[:12]}"


def write_record(path: Path, sha256: str) -> None:
    """Store `sha256` as `path`'s published checksum after checking the file against it.

    Example:
        >>> write_record(Path("resnet_10_23dataset.pth"), "ab" * 32)  # doctest: +SKIP
    """
    record_path(path).write_text(f"{sha256}  {path.name}\n")
    verify_published(path)
