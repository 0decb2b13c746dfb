"""A model whose search starts where a fixed sequence of steps leads (a spec's ``prefix``).

Some counterexamples lie beyond what a complete search of their configuration can reach
in a test's time (ZOOKEEPER-790: 35 steps into a space of millions of states), while the
interesting part is a short branch after a known path. TLC users write a new ``Init`` for
this; here a spec names the path as action labels, they are replayed from the model's
initial state, and the search explores everything reachable from the state they reach.
Verdicts, counts and trace lengths then count from that state, and say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zkcheck.explorer.trace import step


class PrefixError(ValueError):
    """A prefix step is not enabled where the path has led."""


class Prefixed:
    """``model`` with its initial states replaced by the end of ``labels`` (replayed from
    its first initial state). Everything else is the wrapped model's."""

    def __init__(self, model: Any, labels: Sequence[str]) -> None:
        self._model = model
        self.prefix = tuple(labels)
        state = model.initial_states()[0]
        for number, label in enumerate(self.prefix, start=1):
            try:
                state = step(model, state, label)
            except LookupError:
                raise PrefixError(f"prefix step {number} ({label!r}) is not enabled after "
                                  f"the steps before it") from None
        self._start = state

    def initial_states(self) -> Sequence[Any]:
        return (self._start,)

    def liveness_companion(self, names: Sequence[str]) -> None:
        """Liveness is judged on this search's own graph: another model's companion would
        start from the original initial states."""
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)
