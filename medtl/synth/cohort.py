"""What every synthetic cohort shares: patients with labels and identities, UIDs, and the files listing cases."""
from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from pydicom.uid import UID, generate_uid

SURNAMES = (
    "ALBERS", "BRANDT", "CASTILLO", "DUBOIS", "ESPOSITO", "FISCHER", "GARCIA", "HOLM", "IVANOV", "JENSEN",
    "KOWALSKI", "LARSSON", "MORENO", "NOVAK", "OKAFOR", "PETROV", "QUINN", "ROSSI", "SATO", "TANAKA",
    "UDDIN", "VARGA", "WEBER", "XU", "YILMAZ", "ZHANG",
)
# Entries a previous run of `make_xray` / `make_mri` leaves in its folder; only these are ever replaced.
OUTPUT_ENTRIES = frozenset(
    {"images", "masks", "dicom", "imagesTr", "labelsTr", "cases.csv", "findings.json", "dataset.json"}
)
CASE_COLUMNS = ("path", "label", "patient_id", "mask")


@dataclass(frozen=True)
class Patient:
    """One synthetic patient: id, label and the identifying details written into DICOM headers.

    Example:
        >>> Patient("P000", "normal", "SYNTH^WEBER", "19620314", "F", seed=7, index=0).patient_id
        'P000'
    """

    patient_id: str
    label: str
    name: str
    birth_date: str
    sex: str
    seed: int
    index: int

    def rng(self) -> np.random.Generator:
        """This patient's own random stream, independent of how many patients the cohort has.

        Example:
            >>> patient = Patient("P000", "normal", "SYNTH^XU", "19700101", "M", seed=3, index=0)
            >>> patient.rng().random() == patient.rng().random()
            True
        """
        return np.random.default_rng([self.seed, self.index])


def make_patients(count: int, seed: int, labels: Sequence[str], prevalence: float | None) -> list[Patient]:
    """`count` patients with shuffled labels: the last label for a `prevalence` share of patients (at least one of
    each label), or, when `prevalence` is None, the labels in equal shares.

    Example:
        >>> [p.label for p in make_patients(4, 0, ("normal", "nodule"), 0.5)].count("nodule")
        2
    """
    if count < len(labels):
        raise ValueError(f"patients must be at least {len(labels)} to cover {list(labels)}. Got {count!r} instead.")
    if prevalence is not None and not 0.0 < prevalence < 1.0:
        raise ValueError(f"prevalence must be strictly between 0 and 1. Got {prevalence!r} instead.")
    rng = np.random.default_rng(seed)
    if prevalence is None:
        assigned = [labels[i % len(labels)] for i in range(count)]
    else:
        positives = min(max(int(round(prevalence * count)), 1), count - 1)
        assigned = [labels[0]] * (count - positives) + [labels[-1]] * positives
    assigned = [assigned[i] for i in rng.permutation(count)]
    width = max(3, len(str(count - 1)))
    first_day = date(1935, 1, 1)
    patients = []
    for index, label in enumerate(assigned):
        birth = first_day + timedelta(days=int(rng.integers(0, 65 * 365)))
        patients.append(
            Patient(
                patient_id=f"P{index:0{width}d}",
                label=label,
                name=f"SYNTH^{SURNAMES[int(rng.integers(len(SURNAMES)))]}",
                birth_date=birth.strftime("%Y%m%d"),
                sex=str(rng.choice(["F", "M"])),
                seed=seed,
                index=index,
            )
        )
    return patients


def check_bounds(name: str, bounds: tuple[int, int]) -> None:
    """Raise a ValueError naming the parameter unless `bounds` is (low, high) with 1 <= low <= high.

    Example:
        >>> check_bounds("images_per_patient", (1, 3))
    """
    if len(bounds) != 2 or not 1 <= bounds[0] <= bounds[1]:
        raise ValueError(f"{name} must be (low, high) with 1 <= low <= high. Got {bounds!r} instead.")


def synth_uid(seed: int, *parts: str) -> UID:
    """A DICOM UID that depends only on the seed and the parts naming the object, so reruns give the same UIDs.

    Example:
        >>> synth_uid(0, "study", "P000") == synth_uid(0, "study", "P000") != synth_uid(1, "study", "P000")
        True
    """
    return generate_uid(entropy_srcs=["medtl-synth", str(seed), *parts])


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    """Raise a ValueError naming the parameter when `value` is not one of `allowed`.

    Example:
        >>> check_choice("fmt", "png", ("dicom", "png"))
    """
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}. Got {value!r} instead.")


def prepare_output(out: str | Path) -> Path:
    """Create `out`, first removing an earlier synthetic cohort there (recognised by its findings.json and no
    other entries); refuse any other non-empty folder, so no other file is ever deleted.

    Example:
        >>> import tempfile; prepare_output(Path(tempfile.mkdtemp()) / "cohort").is_dir()
        True
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        entries = sorted(p.name for p in out.iterdir())
        foreign = [name for name in entries if name not in OUTPUT_ENTRIES]
        if foreign or "findings.json" not in entries:
            raise FileExistsError(
                f"{out}: folder is not empty and holds no synthetic cohort ({', '.join((foreign or entries)[:5])}); "
                "choose an empty or new folder"
            )
        for entry in out.iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_cases(out: Path, rows: list[dict[str, str]]) -> Path:
    """Write `cases.csv` (path, label, patient_id, mask; paths relative to `out`).

    Example:
        >>> import tempfile; d = Path(tempfile.mkdtemp())
        >>> write_cases(d, [{"path": "a.png", "label": "normal", "patient_id": "P000", "mask": "m.png"}]).name
        'cases.csv'
    """
    path = out / "cases.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CASE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(path: Path, content: Any) -> Path:
    """Write `content` as indented JSON.

    Example:
        >>> import tempfile; write_json(Path(tempfile.mkdtemp()) / "f.json", {"a": []}).read_text()
        '{\\n  "a": []\\n}'
    """
    path.write_text(json.dumps(content, indent=2))
    return path
