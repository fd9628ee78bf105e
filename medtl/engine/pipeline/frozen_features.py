"""What a frozen backbone hands its head, kept per case, so that a linear probe runs the backbone once per case:
every fold of a cross-validation, the validation after every epoch and the held-out predictions read the
stored vectors instead."""
from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import torch
from torch import nn


def backbone_tensors(model: nn.Module, head: str) -> list[torch.Tensor]:
    """Every parameter and buffer of `model` outside the module at `head` (the module's own tensors, not copies).

    Example:
        >>> [t.shape for t in backbone_tensors(nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)), head="1")]
        [torch.Size([4, 3]), torch.Size([4])]
    """
    named = [*model.named_parameters(), *model.named_buffers()]
    return [t for name, t in named if not name.startswith(head + ".")]


def same_tensors(stored: Sequence[torch.Tensor], current: Sequence[torch.Tensor]) -> bool:
    """Whether two lists of tensors are equal element for element (shape, dtype, device and every value).

    Example:
        >>> same_tensors([torch.ones(2)], [torch.ones(2)]), same_tensors([torch.ones(2)], [torch.zeros(2)])
        (True, False)
    """
    return len(stored) == len(current) and all(
        a.shape == b.shape and a.dtype == b.dtype and a.device == b.device and torch.equal(a, b)
        for a, b in zip(stored, current))


class FrozenFeatures:
    """The head inputs of one backbone for the cases of one dataset under one transform, by row.

    They stay valid while the backbone's weights and buffers are exactly those they were computed with: each
    tensor is compared by value, so a new fold's model built from the same pretrained weights matches, and a
    tensor already matched is not compared again until it is modified in place (its autograd version counter
    moves, as under an optimizer step or `load_state_dict`; writes through `.data` bypass that counter); a
    different backbone or transform replaces them.

    Example:
        >>> model, store = nn.Sequential(nn.Flatten(), nn.Linear(2, 2)), FrozenFeatures()
        >>> compute = lambda rows: torch.tensor(rows, dtype=torch.float32)[:, None].repeat(1, 2)
        >>> store.features(model, "1", [3, 1], "eval", compute)
        tensor([[3., 3.],
                [1., 1.]])
        >>> store.holds(model, "1", "eval"), store.holds(model, "1", "train")
        (True, False)
    """

    def __init__(self) -> None:
        self._backbone: list[torch.Tensor] = []
        self._transform: object = None
        self._by_row: dict[int, torch.Tensor] = {}
        self._matched: list[tuple[weakref.ref, int]] = []

    def holds(self, model: nn.Module, head: str, transform: object) -> bool:
        """Whether features of `model`'s backbone under `transform` are stored."""
        if not self._by_row or transform is not self._transform:
            return False
        current = backbone_tensors(model, head)
        if len(current) == len(self._matched) and all(
                ref() is t and version == t._version for (ref, version), t in zip(self._matched, current)):
            return True
        if not same_tensors(self._backbone, current):
            return False
        self._matched = [(weakref.ref(t), t._version) for t in current]
        return True

    def features(self, model: nn.Module, head: str, rows: Sequence[int], transform: object,
                 compute: Callable[[list[int]], torch.Tensor]) -> torch.Tensor:
        """The head inputs at `rows` (N, F): those stored, and `compute(missing rows)` for the rest, which are
        then stored too."""
        if not self.holds(model, head, transform):
            current = backbone_tensors(model, head)
            self._backbone = [t.detach().clone() for t in current]
            self._matched = [(weakref.ref(t), t._version) for t in current]
            self._transform, self._by_row = transform, {}
        missing = [row for row in dict.fromkeys(rows) if row not in self._by_row]
        if missing:
            self._by_row.update(zip(missing, compute(missing)))
        return torch.stack([self._by_row[row] for row in rows])
