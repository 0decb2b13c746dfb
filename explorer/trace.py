"""Counterexample and witness traces: rebuilt from the store, replayed against the model.

A trace is an initial state plus ``(label, state)`` steps. The store keeps only
fingerprints, parent links and label ids, so full states are recovered by re-executing the
labels from the initial state; replaying a stored trace does the same and fails at the first
step that the model no longer takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from zkcheck.explorer.fingerprint import fingerprint
from zkcheck.explorer.model import Model


class ReplayError(Exception):
    """A trace that the model no longer reproduces; ``step`` is 1-based (0 = initial)."""

    def __init__(self, step: int, message: str):
        super().__init__(f"step {step}: {message}")
        self.step = step


@dataclass(frozen=True)
class Trace:
    initial: Any
    steps: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    loop_start: int | None = None  # lasso traces: index of the state the last step returns to

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.steps]

    @property
    def states(self) -> list[Any]:
        return [self.initial] + [state for _, state in self.steps]

    @property
    def final(self) -> Any:
        return self.steps[-1][1] if self.steps else self.initial


def successor(model: Model, state: Any, label: str) -> Any | None:
    """The successor of ``state`` under the action labelled ``label``, or None when that
    action is not enabled."""
    for candidate, after in model.actions(state):
        if candidate == label:
            return after
    return None


def step(model: Model, state: Any, label: str) -> Any:
    """The successor of ``state`` under the action labelled ``label``, or LookupError."""
    after = successor(model, state, label)
    if after is None:
        raise LookupError(label)
    return after


def execute(model: Model, initial_index: int, labels: Sequence[str], fps: Sequence[int]) -> Trace:
    """Rebuild full states by re-executing ``labels``; check each against its fingerprint."""
    state = model.initial_states()[initial_index]
    if fingerprint(model.encode(state)) != fps[0]:
        raise RuntimeError("initial state does not match its stored fingerprint")
    steps = []
    for number, label in enumerate(labels, start=1):
        state = step(model, state, label)
        if fingerprint(model.encode(state)) != fps[number]:
            raise RuntimeError(f"step {number} ({label}) is not deterministic in the model")
        steps.append((label, state))
    return Trace(model.initial_states()[initial_index], tuple(steps))


def replay(model: Model, trace: Trace) -> None:
    """Re-execute ``trace`` against ``model`` and confirm every state; raise ReplayError."""
    inits = model.initial_states()
    encoded = model.encode(trace.initial)
    if not any(model.encode(s) == encoded for s in inits):
        raise ReplayError(0, "the initial state is not an initial state of the model")
    state = trace.initial
    for number, (label, expected) in enumerate(trace.steps, start=1):
        try:
            state = step(model, state, label)
        except LookupError:
            raise ReplayError(number, f"action {label!r} is not enabled") from None
        if model.encode(state) != model.encode(expected):
            raise ReplayError(number, f"action {label!r} leads to a different state")
    if trace.loop_start is not None:
        if model.encode(trace.states[trace.loop_start]) != model.encode(state):
            raise ReplayError(len(trace.steps), "the loop does not return to its start")


def replay_labels(model: Model, initial: Any, labels: Sequence[str]) -> Trace:
    """Build a trace by executing ``labels`` from ``initial`` (for hand-written scenarios)."""
    state, steps = initial, []
    for number, label in enumerate(labels, start=1):
        try:
            state = step(model, state, label)
        except LookupError:
            raise ReplayError(number, f"action {label!r} is not enabled") from None
        steps.append((label, state))
    return Trace(initial, tuple(steps))
