"""Which enabled action a random walk takes next: uniform, per actor, or PCT.

The explorer knows nothing of servers; a model may name the *actor* of an action through
an optional ``actor(label) -> Hashable`` method (FLE: the server that performs it). Without
one, every label is its own actor, so ``per-server`` degenerates to ``uniform`` over labels
and PCT gives each label its own priority.

PCT (probabilistic concurrency testing, Burckhardt, Kothari, Musuvathi, Nagarakatte,
ASPLOS 2010; the scheduler of P and Coyote): at the start of a walk the actors get random
distinct priorities, all above ``c``; ``c`` change points are drawn uniformly among the
``depth`` steps, the i-th with priority value ``i`` (i = 1..c). Every step runs an enabled
action of the highest-priority actor that has one; after the step taken at a change point
the actor that took it drops to that point's priority. For a bug of depth ``d = c + 1``
(d ordering constraints between actions) with ``n`` actors and ``k`` steps, one walk finds
it with probability at least ``1 / (n * k**(d-1))``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

SCHEDULERS = ("uniform", "per-server", "pct")

Actor = Callable[[str], Hashable]


def actor_function(model: Any) -> Actor:
    """The model's ``actor`` hook, or the default: every label is its own actor."""
    hook = getattr(model, "actor", None)
    return hook if hook is not None else _label_is_actor


def _label_is_actor(label: str) -> Hashable:
    return label


class Scheduler:
    """Uniformly random among the enabled actions."""

    def __init__(self, actor: Actor, rng: np.random.Generator, depth: int):
        self.actor = actor
        self.rng = rng

    def choose(self, labels: Sequence[str], step: int) -> int:
        return int(self.rng.integers(len(labels)))


class PerActor(Scheduler):
    """Uniformly among the actors with an enabled action, then uniformly among its actions."""

    def choose(self, labels: Sequence[str], step: int) -> int:
        groups: dict[Hashable, list[int]] = {}
        for index, label in enumerate(labels):
            groups.setdefault(self.actor(label), []).append(index)
        members = list(groups.values())
        chosen = members[int(self.rng.integers(len(members)))]
        return chosen[int(self.rng.integers(len(chosen)))]


class PCT(Scheduler):
    """Priority scheduling with ``change_points`` random priority drops (see module doc)."""

    def __init__(self, actor: Actor, rng: np.random.Generator, depth: int,
                 change_points: int = 0):
        super().__init__(actor, rng, depth)
        self.base = float(change_points)
        count = min(change_points, depth)
        steps = rng.choice(depth, size=count, replace=False) if count else []
        # the i-th point drawn gets priority value i (1-based), below every initial one
        self.drops = {int(s): float(i + 1) for i, s in enumerate(steps)}
        self.priority: dict[Hashable, float] = {}

    def _priority(self, actor: Hashable) -> float:
        value = self.priority.get(actor)
        if value is None:
            # a uniform draw above every change-point value: the relative order of the
            # actors is a uniformly random permutation, assigned lazily as they appear
            value = self.priority[actor] = self.base + 1.0 + float(self.rng.random())
        return value

    def choose(self, labels: Sequence[str], step: int) -> int:
        actors = [self.actor(label) for label in labels]
        # first-appearance order, never set order: lazy priority draws must be reproducible
        best = max(dict.fromkeys(actors), key=self._priority)
        candidates = [i for i, a in enumerate(actors) if a == best]
        index = candidates[int(self.rng.integers(len(candidates)))]
        drop = self.drops.get(step)
        if drop is not None:
            self.priority[best] = drop
        return index


def make_scheduler(kind: str, actor: Actor, rng: np.random.Generator, depth: int,
                   change_points: int) -> Scheduler:
    if kind == "uniform":
        return Scheduler(actor, rng, depth)
    if kind == "per-server":
        return PerActor(actor, rng, depth)
    if kind == "pct":
        return PCT(actor, rng, depth, change_points)
    raise ValueError(f"unknown scheduler {kind!r} (one of {', '.join(SCHEDULERS)})")


def pct_bound(actors: int, steps: int, change_points: int) -> float:
    """PCT's guaranteed probability per walk of hitting a bug of depth change_points + 1."""
    return 1.0 / (actors * steps ** change_points)
