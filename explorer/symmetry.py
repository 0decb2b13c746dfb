"""Checking a declared symmetry on explored states (``--check-symmetry``).

Symmetry reduction stores one fingerprint per orbit (``model.canonical``). That is sound
only if every permutation of the declared group is an automorphism of the model: it maps
successors to successors (``succ(g(s)) = g(succ(s))`` as sets of states) and no property
can tell ``s`` from ``g(s)``. Models declare the group with ``symmetry_group()`` and
``permute(state, g)``; ``check_symmetry`` tests both conditions on the states of a
breadth-first exploration and returns the first failure as one line (None: no failure).
Traces are never affected: they re-execute labels from the original initial state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zkcheck.explorer.model import Model, PropertyKind


def check_symmetry(model: Model, group: Sequence[Any] | None = None, *,
                   max_states: int = 3000, max_depth: int | None = None) -> str | None:
    """Check ``group`` (default: the model's declared one) on up to ``max_states``
    breadth-first states (within ``max_depth``)."""
    permute = getattr(model, "permute", None)
    if permute is None:
        return f"model {model.name!r} declares no symmetry"
    group = list(group if group is not None else model.symmetry_group())
    encode = model.encode
    predicates = [(p.name, p.predicate) for p in model.properties()
                  if p.kind is not PropertyKind.LIVENESS]
    frontier = list(model.initial_states())
    seen = {encode(s) for s in frontier}
    checked, depth = 0, 0
    while frontier and checked < max_states and (max_depth is None or depth <= max_depth):
        following = []
        for state in frontier:
            if checked >= max_states:
                break
            checked += 1
            succ = [t for _, t in model.actions(state)]
            for g in group:
                image = permute(state, g)
                for name, p in predicates:
                    if p(state) != p(image):
                        return (f"permutation {g} is not a symmetry: property {name} tells "
                                f"a state from its image (explored state {checked})")
                expected = sorted(encode(permute(t, g)) for t in succ)
                got = sorted(encode(t) for _, t in model.actions(image))
                if expected != got:
                    return (f"permutation {g} is not a symmetry: the successors of a permuted "
                            f"state are not the permuted successors (explored state "
                            f"{checked})")
            for t in succ:
                code = encode(t)
                if code not in seen:
                    seen.add(code)
                    following.append(t)
        frontier = following
        depth += 1
    return None
