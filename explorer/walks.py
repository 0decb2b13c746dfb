"""Seeded random walks over a ``Model``: the unit of work of ``zkcheck simulate``.

A batch is a pure function ``(model factory, settings, seed, walk indices) -> BatchResult``:
walk ``k`` draws everything (swarm knobs, initial state, PCT priorities, every choice)
from its own generator, ``PCG64(SeedSequence([seed, k]))``, so it is the same walk alone,
in any batch, in any process, on any backend (multiprocessing now; Ray actors later).

A walk starts in an initial state and takes enabled actions chosen by the scheduler until
a property is violated, no action is enabled (a deadlock) or ``depth`` steps were taken.
In every state it checks every invariant, records the witnesses it hits and, for each
liveness property ("eventually goal") whose goal it has not met yet, whether the walk
proves a violation: it ended in a deadlock, or it returned to a state it visited earlier
through a loop that is weakly fair (every fairness class enabled in all states of the
loop is taken in it; classes from the model's optional ``fairness(label)`` hook as in
``explorer.liveness``). Both are real counterexamples, never "holds" by sampling.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np

from zkcheck.explorer.coverage import Coverage, action_kind_function
from zkcheck.explorer.fingerprint import fingerprint
from zkcheck.explorer.model import Model, Property, PropertyKind, select_properties
from zkcheck.explorer.schedulers import actor_function, make_scheduler
from zkcheck.explorer.swarm import draw_knobs, knobs_of

ModelFactory = Callable[[], Model]


@dataclass(frozen=True)
class WalkSettings:
    depth: int = 100
    scheduler: str = "uniform"
    change_points: int = 2
    swarm: bool = False
    properties: tuple[str, ...] | None = None


@dataclass
class WalkRecord:
    """A walk worth reporting: its actions (to rebuild the states), how it was configured,
    and what it showed (the violated property, or a witness hit at its last step)."""

    index: int
    labels: tuple[str, ...]
    initial: int  # index into the walk model's initial_states()
    knobs: dict[str, int]
    prop: str
    loop_start: int | None = None
    note: str = ""


@dataclass
class BatchResult:
    first: int
    stop: int  # walks first..stop-1 ran (a batch ends early after a violating walk)
    coverage: Coverage
    violation: WalkRecord | None = None
    witnesses: dict[str, WalkRecord] = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    factory: ModelFactory
    settings: WalkSettings
    seed: int
    first: int
    stop: int


def walk_rng(seed: int, walk: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, walk])))


_WALKERS: dict[bytes, Walker] = {}


def run_batch(batch: Batch) -> BatchResult:
    """Run walks ``batch.first .. batch.stop - 1``; stop after the first violating one."""
    key = pickle.dumps((batch.factory, batch.settings))
    walker = _WALKERS.get(key)
    if walker is None:
        walker = _WALKERS[key] = Walker(batch.factory(), batch.settings)
    return walker.batch(batch.seed, batch.first, batch.stop)


class Walker:
    """Runs walks of one base model and settings (caches per swarm configuration)."""

    def __init__(self, model: Model, settings: WalkSettings):
        self.base = model
        self.settings = settings
        self.knobs = knobs_of(model) if settings.swarm else []
        if settings.swarm and not self.knobs:
            raise ValueError(f"model {model.name!r} declares no swarm knobs")
        self.actor = actor_function(model)
        self.kind = action_kind_function(model)
        self.features = getattr(model, "coverage_features", None)
        fairness = getattr(model, "fairness", None)
        self.fairness = fairness if fairness is not None else (lambda label: label)
        self._models: dict[tuple, tuple[Model, list[Property]]] = {}
        select_properties(model.properties(), settings.properties)  # unknown names fail early

    def model_for(self, knobs: dict[str, int]) -> tuple[Model, list[Property]]:
        key = tuple(sorted(knobs.items()))
        cached = self._models.get(key)
        if cached is None:
            model = self.base.with_knobs(knobs) if knobs else self.base
            cached = self._models[key] = (
                model, select_properties(model.properties(), self.settings.properties))
        return cached

    def batch(self, seed: int, first: int, stop: int) -> BatchResult:
        coverage = Coverage()
        fps: list[int] = []
        result = BatchResult(first, stop, coverage)
        for index in range(first, stop):
            record = self.walk(seed, index, coverage, fps, result.witnesses)
            coverage.walks += 1
            if record is not None:
                result.violation = record
                result.stop = index + 1
                break
        coverage.fingerprints = np.unique(np.array(fps, dtype=np.uint64))
        return result

    def walk(self, seed: int, index: int, coverage: Coverage, fps: list[int],
             witnesses: dict[str, WalkRecord]) -> WalkRecord | None:
        """One walk; returns the record of its violation, if any. Counts go to ``coverage``,
        fingerprints to ``fps``, first witness hits (not yet in ``witnesses``) there."""
        settings = self.settings
        rng = walk_rng(seed, index)
        knobs = draw_knobs(self.knobs, rng) if self.knobs else {}
        model, props = self.model_for(knobs)
        inits = model.initial_states()
        init_index = int(rng.integers(len(inits))) if len(inits) > 1 else 0
        scheduler = make_scheduler(settings.scheduler, self.actor, rng, settings.depth,
                                   settings.change_points)
        invariants = [p for p in props if p.kind is PropertyKind.INVARIANT]
        pending = [p for p in props
                   if p.kind is PropertyKind.WITNESS and p.name not in witnesses]
        goals = [p for p in props if p.kind is PropertyKind.LIVENESS]
        labels: list[str] = []
        kinds = coverage.kinds
        fairness, features, encode = self.fairness, self.features, model.encode
        seen: dict[bytes, int] = {}  # state -> first position, while a goal is unmet
        enabled: list[frozenset[Hashable]] = []

        def record(prop: str, loop_start: int | None = None, note: str = "",
                   upto: int | None = None) -> WalkRecord:
            return WalkRecord(index, tuple(labels[:upto]), init_index, knobs, prop,
                              loop_start, note)

        state = inits[init_index]
        position = 0
        while True:
            data = encode(state)
            fps.append(fingerprint(data))
            if features is not None:
                coverage.add_features(features(state))
            for prop in invariants:
                if not prop.predicate(state):
                    return self._end(coverage, "violation", position,
                                     record(prop.name, note="invariant violated"))
            if pending:
                for prop in [p for p in pending if p.predicate(state)]:
                    witnesses[prop.name] = record(prop.name, note="witness hit")
                    coverage.witnesses.setdefault(prop.name, index)
                    pending.remove(prop)
            if goals:
                goals = [p for p in goals if not p.predicate(state)]
                if goals:
                    lasso = self._fair_loop(seen, data, position, labels, enabled)
                    if lasso is not None:
                        return self._end(coverage, "violation", position, record(
                            goals[0].name, lasso, "a weakly fair loop never reaches the goal"))
            if position >= settings.depth:
                return self._end(coverage, "depth", position, None)
            actions = list(model.actions(state))
            if not actions:
                if goals:
                    return self._end(coverage, "violation", position, record(
                        goals[0].name, note="a deadlocked state never reaches the goal"))
                return self._end(coverage, "deadlock", position, None)
            names = [label for label, _ in actions]
            if goals:
                enabled.append(frozenset(fairness(n) for n in names) - {None})
            label, state = actions[scheduler.choose(names, position)]
            labels.append(label)
            kinds[self.kind(label)] += 1
            position += 1

    def _fair_loop(self, seen: dict[bytes, int], data: bytes, position: int,
                   labels: list[str], enabled: list[frozenset]) -> int | None:
        """If this state was visited before through a weakly fair loop, its first position."""
        start = seen.setdefault(data, position)
        if start == position:
            return None
        taken = {self.fairness(label) for label in labels[start:position]}
        always = frozenset.intersection(*enabled[start:position])
        return start if always <= taken else None

    @staticmethod
    def _end(coverage: Coverage, how: str, position: int,
             outcome: WalkRecord | None) -> WalkRecord | None:
        coverage.ends[how] += 1
        coverage.steps += position
        coverage.max_depth = max(coverage.max_depth, position)
        return outcome

