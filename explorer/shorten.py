"""Shortening a violating random walk before it is shown.

Two passes, both generic over the Model interface:

1. **Delta debugging** (Zeller and Hildebrandt's ddmin) over the walk's actions: drop
   chunks of labels, re-execute the rest from the initial state, keep a candidate whose
   every action is still enabled and that still reaches a violating state (cut at the
   first one).
2. **Breadth-first search seeded with the walk's states**: an ordinary BFS from the
   initial state, except that the i-th state of the (ddmin-shortened) walk is added at
   depth i if the search has not reached it earlier. The walk bounds the result, so a
   BFS that stops storing new states at ``max_states`` (memory) still returns a trace no
   longer than the walk; when the cap was never hit, the BFS saw every state up to the
   depth of its result and that trace is a shortest violating trace from the walk's
   initial state.

What counts as "violating" depends on the property: a state breaking an invariant (for a
witness trace: a state satisfying the witness); for
"eventually goal" a deadlocked state reached through states that all miss the goal; for
a lasso, the loop's entry state: the prefix is shortened by both passes, then the loop by
delta debugging alone (a candidate loop must return to the entry state, miss the goal and
stay weakly fair).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from zkcheck.explorer.model import Model, Property, PropertyKind
from zkcheck.explorer.trace import Trace, replay_labels, successor

MAX_DDMIN_TESTS = 2000
MAX_DDMIN_SECONDS = 10.0


@dataclass(frozen=True)
class Shortened:
    trace: Trace
    original: int  # length of the walk's trace
    exact: bool  # True: a complete BFS proved no shorter trace exists
    method: str

    def describe(self) -> str:
        return f"shortened from {self.original} to {len(self.trace)} steps by {self.method}"


def shorten(model: Model, trace: Trace, prop: Property, max_states: int = 100_000) -> Shortened:
    """The shortest violating trace (for a witness: the shortest trace to a state that
    satisfies it) the two passes find (see the module docstring)."""
    loop = trace.labels[trace.loop_start:] if trace.loop_start is not None else []
    if prop.kind is PropertyKind.INVARIANT:
        def allowed(state: Any) -> bool:
            return True

        def hit(state: Any) -> bool:
            return not prop.predicate(state)
    elif prop.kind is PropertyKind.WITNESS:
        def allowed(state: Any) -> bool:
            return True

        def hit(state: Any) -> bool:
            return prop.predicate(state)
    else:
        def allowed(state: Any) -> bool:
            return not prop.predicate(state)

        if trace.loop_start is not None:
            entry = model.encode(trace.states[trace.loop_start])

            def hit(state: Any) -> bool:
                return model.encode(state) == entry
        else:
            def hit(state: Any) -> bool:
                return not any(True for _ in model.actions(state))
    prefix = trace.labels[:trace.loop_start] if trace.loop_start is not None else trace.labels
    labels = ddmin(prefix, lambda candidate: _run(model, trace.initial, candidate, allowed,
                                                  hit))
    seeded = replay_labels(model, trace.initial, labels)
    found, exact = seeded_bfs(model, seeded, allowed, hit, max_states)
    if loop:
        entry_state = trace.states[trace.loop_start]
        loop = ddmin(loop, _fair_loop_test(model, entry_state, allowed))
        steps = replay_labels(model, trace.initial, found.labels + loop).steps
        found = Trace(trace.initial, steps, loop_start=len(found))
    method = ("delta debugging, then a breadth-first search seeded with the walk's states "
              + ("that was never capped: no shorter trace exists" if exact else
                 f"capped at {max_states:,} states: not proven shortest"))
    if loop:
        method += (" (for the prefix to the loop; the loop is shortened by delta debugging "
                   "only, keeping it weakly fair)")
    return Shortened(found, len(trace), exact, method)


def _run(model: Model, initial: Any, labels: Sequence[str], allowed: Callable[[Any], bool],
         hit: Callable[[Any], bool]) -> list[str] | None:
    """``labels`` cut at the first hit, or None if an action is disabled, a state is not
    allowed, or nothing is hit."""
    state = initial
    if not allowed(state):
        return None
    if hit(state):
        return []
    for number, label in enumerate(labels, start=1):
        state = successor(model, state, label)
        if state is None or not allowed(state):
            return None
        if hit(state):
            return list(labels[:number])
    return None


def _fair_loop_test(model: Model, entry_state: Any, allowed: Callable[[Any], bool]
                    ) -> Callable[[Sequence[str]], list[str] | None]:
    """A ddmin test for loops: the labels, if they lead from ``entry_state`` back to it,
    every action is enabled, every state allowed and the loop is weakly fair."""
    entry = model.encode(entry_state)
    fairness = getattr(model, "fairness", None) or (lambda label: label)

    def test(labels: Sequence[str]) -> list[str] | None:
        state, enabled = entry_state, []
        for label in labels:
            actions = list(model.actions(state))
            enabled.append({fairness(name) for name, _ in actions} - {None})
            state = next((succ for name, succ in actions if name == label), None)
            if state is None or not allowed(state):
                return None
        if not labels or model.encode(state) != entry:
            return None
        taken = {fairness(name) for name in labels}
        return list(labels) if set.intersection(*enabled) <= taken else None

    return test


def ddmin(labels: Sequence[str], test: Callable[[Sequence[str]], list[str] | None]
          ) -> list[str]:
    """A small subsequence of ``labels`` that passes ``test`` (which may also cut it);
    Zeller's ddmin over complements, with a bounded number of tests and time."""
    current = test(labels)
    if current is None:
        raise ValueError("the walk does not reproduce its violation")
    parts, tests, deadline = 2, 0, time.perf_counter() + MAX_DDMIN_SECONDS
    while len(current) >= 2 and tests < MAX_DDMIN_TESTS and time.perf_counter() < deadline:
        size = -(-len(current) // parts)
        for start in range(0, len(current), size):
            tests += 1
            candidate = test(current[:start] + current[start + size:])
            if candidate is not None:
                current, parts = candidate, max(parts - 1, 2)
                break
        else:
            if parts >= len(current):
                break
            parts = min(parts * 2, len(current))
    return current


def seeded_bfs(model: Model, walk: Trace, allowed: Callable[[Any], bool],
               hit: Callable[[Any], bool], max_states: int) -> tuple[Trace, bool]:
    """(shortest trace found, whether no level was capped); see the module docstring."""
    encode = model.encode
    walk_states = walk.states
    start = encode(walk.initial)
    parent: dict[bytes, tuple[bytes, str] | None] = {start: None}
    frontier = [(start, walk.initial)]
    exact = True
    if hit(walk.initial):
        return walk, True
    for depth in range(1, len(walk) + 1):
        level: list[tuple[bytes, Any]] = []
        found = None
        for data, state in frontier:
            for label, after in model.actions(state):
                key = encode(after)
                if key in parent or not allowed(after):
                    continue
                if len(parent) >= max_states:
                    exact = False
                    continue
                parent[key] = (data, label)
                level.append((key, after))
                if hit(after):
                    found = key
                    break
            if found is not None:
                break
        seed = encode(walk_states[depth])
        if found is None and seed not in parent:
            parent[seed] = (encode(walk_states[depth - 1]), walk.labels[depth - 1])
            level.append((seed, walk_states[depth]))
            if depth == len(walk):
                found = seed
        if found is not None:
            labels: list[str] = []
            key = found
            while parent[key] is not None:
                key, label = parent[key]
                labels.append(label)
            return replay_labels(model, walk.initial, labels[::-1]), exact
        frontier = level
    return walk, exact
