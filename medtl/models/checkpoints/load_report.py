"""`LoadReport`: exactly what a weights load did to a model, key by key."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass
class LoadReport:
    """The outcome of loading pretrained weights.

    `loaded`: model keys that received a checkpoint tensor (as is or adapted); `missing`: model keys the
    checkpoint has no tensor for (they keep their fresh initialisation); `unexpected`: checkpoint keys the
    model has no place for (not used); `mismatched`: (key, expected shape, checkpoint shape) left at their
    fresh initialisation; `adapted`: what medtl changed on purpose (first conv channels, inflation, head reset).

    Example:
        >>> report = LoadReport("file:a.pth", loaded=["conv1.weight"], missing=["fc.weight"])
        >>> print(report)
        weights file:a.pth: 1 tensors loaded, 1 missing, 0 unexpected, 0 mismatched
          missing (fresh init): fc.weight
        >>> json.loads(report.to_json())["missing"]
        ['fc.weight']
    """

    source: str
    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    adapted: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"weights {self.source}: {len(self.loaded)} tensors loaded, {len(self.missing)} missing, "
                 f"{len(self.unexpected)} unexpected, {len(self.mismatched)} mismatched"]
        lines += [f"  adapted: {note}" for note in self.adapted]
        if self.missing:
            lines.append(f"  missing (fresh init): {_shorten(self.missing)}")
        if self.unexpected:
            lines.append(f"  unexpected (not used): {_shorten(self.unexpected)}")
        lines += [f"  mismatched (fresh init): {key} expects {list(want)}, checkpoint has {list(got)}"
                  for key, want, got in self.mismatched]
        return "\n".join(lines)

    def to_json(self) -> str:
        """The report as JSON text (shapes as lists).

        Example:
            >>> json.loads(LoadReport("imagenet").to_json())["source"]
            'imagenet'
        """
        return json.dumps(asdict(self), indent=2)


def _shorten(keys: list[str], limit: int = 8) -> str:
    shown = ", ".join(keys[:limit])
    return shown if len(keys) <= limit else f"{shown}, ... ({len(keys) - limit} more)"
