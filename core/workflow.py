"""A small lifecycle table: which status may follow which, and the coarse state each maps to.

Each ticket kind declares one `Workflow` in its own `workflow.py`; services call
`check_transition` before changing a status, so a transition not in the table is refused
before anything is written. No ORM here.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from .exceptions import InvalidTransition

S = TypeVar("S", bound=Enum)
T = TypeVar("T", bound=Enum)


@dataclass(frozen=True)
class Workflow(Generic[S, T]):
    """Transition table plus the map from the kind's status to the shared ticket state."""

    name: str
    transitions: Mapping[S, frozenset[S]]
    states: Mapping[S, T]

    def __post_init__(self) -> None:
        statuses = set(self.transitions)
        if statuses != set(self.states):
            raise ValueError(f"{self.name}: every status needs a transition row and a state")
        for source, targets in self.transitions.items():
            if not targets <= statuses:
                raise ValueError(f"{self.name}: {source} leads to an unknown status")

    def allowed(self, current: S) -> frozenset[S]:
        """Statuses that may follow `current`."""
        return self.transitions[current]

    def can(self, current: S, target: S) -> bool:
        return target in self.transitions[current]

    def check_transition(self, current: S, target: S) -> None:
        """Raise InvalidTransition with a message a person understands."""
        if not self.can(current, target):
            allowed = ", ".join(str(getattr(s, "label", s.value)) for s in self.allowed(current))
            raise InvalidTransition(
                f"{self.name} cannot move from {getattr(current, 'label', current.value)} to "
                f"{getattr(target, 'label', target.value)}."
                + (f" Allowed next: {allowed}." if allowed else " It is final.")
            )

    def state_of(self, status: S) -> T:
        return self.states[status]
