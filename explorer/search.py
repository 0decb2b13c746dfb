"""Breadth-first and depth-first exhaustive search over a Model.

Breadth-first search runs level by level, in chunks whose successors are fingerprinted in
Python and deduplicated against the store with vectorised numpy operations; the first
violation of an invariant is therefore found at minimal depth and its trace is a shortest
counterexample. Depth-first search is iterative (an explicit stack, no recursion limit);
with a depth bound it re-expands a state reached again by a shorter path, so that it
explores exactly the states within the bound, like breadth-first search.

The search knows nothing about the protocol: it only calls the Model interface.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zkcheck.explorer.fingerprint import collision_probability, fingerprint
from zkcheck.explorer.model import Model, Property, PropertyKind
from zkcheck.explorer.result import (
    HOLDS,
    HOLDS_WITHIN_BOUNDS,
    NOT_CHECKED,
    VIOLATED,
    WITNESS_FOUND,
    WITNESS_NOT_FOUND,
    BoundHit,
    Bounds,
    Result,
    Stats,
    Verdict,
)
from zkcheck.explorer.store import NO_PARENT, StateStore
from zkcheck.explorer.trace import Trace, execute

CHUNK = 4096  # states expanded between two store batches, time checks and progress updates

ProgressCallback = Callable[["Progress"], None]


@dataclass
class Progress:
    """A snapshot for the progress line."""

    distinct: int
    generated: int
    depth: int
    frontier: int
    elapsed: float
    levels: list[int] = field(default_factory=list)


@dataclass
class Graph:
    """The explored transition graph (recorded on request, e.g. for liveness and pictures).

    Edges are parallel arrays of store indices and label ids; ``label_names[id]`` is the
    label text. Only transitions out of expanded states are present.
    """

    sources: np.ndarray
    targets: np.ndarray
    labels: np.ndarray
    label_names: list[str]
    expanded: np.ndarray  # bool per state: were its successors generated?


LivenessChecker = Callable[[Model, Property, "Search"], Verdict]


class Search:
    """One exhaustive search; build it, call ``run()``, read the Result."""

    def __init__(
        self,
        model: Model,
        *,
        search: str = "bfs",
        bounds: Bounds | None = None,
        properties: Sequence[str] | None = None,
        check_deadlock: bool = False,
        stop_at_first: bool = False,
        record_graph: bool = False,
        liveness: LivenessChecker | None = None,
        progress: ProgressCallback | None = None,
    ):
        if search not in ("bfs", "dfs"):
            raise ValueError(f"unknown search {search!r} (bfs or dfs)")
        self.model = model
        self.search = search
        self.bounds = bounds or Bounds()
        self.check_deadlock = check_deadlock
        self.stop_at_first = stop_at_first
        self.progress = progress
        self.liveness = liveness
        self.properties = _select(model.properties(), properties)
        wants_liveness = liveness is not None and any(
            p.kind is PropertyKind.LIVENESS for p in self.properties
        )
        self.record_graph = record_graph or wants_liveness
        self.store = StateStore(with_depth=search == "dfs")
        self.label_ids: dict[str, int] = {}
        self.label_names: list[str] = []
        self._pending_inv = [p for p in self.properties if p.kind is PropertyKind.INVARIANT]
        self._pending_wit = [p for p in self.properties if p.kind is PropertyKind.WITNESS]
        # liveness goals are evaluated on every stored state (indices are dense and in order)
        self._goals = (
            {p.name: (p.predicate, bytearray()) for p in self.properties
             if p.kind is PropertyKind.LIVENESS}
            if self.record_graph else {}
        )
        self.violations: dict[str, int] = {}
        self.witnesses: dict[str, int] = {}
        self.deadlock_index: int | None = None
        self.deadlocks = 0
        self.generated = 0
        self.levels: list[int] = []
        self.bounds_hit: list[BoundHit] = []
        self._edges: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._dfs_edges: list[tuple[int, int, int]] = []
        self._expanded: list[int] = []
        self._started = 0.0
        self._deadline: float | None = None

    # ------------------------------------------------------------------ helpers
    def _label_id(self, label: str) -> int:
        lid = self.label_ids.get(label)
        if lid is None:
            lid = self.label_ids[label] = len(self.label_names)
            self.label_names.append(label)
        return lid

    def _check(self, index: int, state: Any) -> None:
        """Evaluate the still-undecided invariants and witnesses on a newly stored state."""
        for prop in self._pending_inv:
            if not prop.predicate(state):
                self.violations[prop.name] = index
                self._pending_inv = [p for p in self._pending_inv if p is not prop]
        for prop in self._pending_wit:
            if prop.predicate(state):
                self.witnesses[prop.name] = index
                self._pending_wit = [p for p in self._pending_wit if p is not prop]
        for predicate, values in self._goals.values():
            values.append(1 if predicate(state) else 0)

    def _deadlock(self, index: int) -> None:
        self.deadlocks += 1
        if self.deadlock_index is None:
            self.deadlock_index = index

    def _should_stop(self) -> bool:
        return self.stop_at_first and bool(self.violations)

    def _out_of_time(self) -> bool:
        return self._deadline is not None and time.perf_counter() >= self._deadline

    def _report(self, depth: int, frontier: int) -> None:
        if self.progress is not None:
            self.progress(
                Progress(
                    self.store.count,
                    self.generated,
                    depth,
                    frontier,
                    time.perf_counter() - self._started,
                    list(self.levels),
                )
            )

    def _initial(self) -> list[tuple[int, Any]]:
        roots = []
        for number, state in enumerate(self.model.initial_states()):
            fp = fingerprint(self.model.encode(state))
            if self.store.find(fp) >= 0:
                continue
            index = self.store.add(fp, NO_PARENT, number, 0)
            self._check(index, state)
            roots.append((index, state))
        return roots

    # ------------------------------------------------------------------ searches
    def run(self) -> Result:
        self._started = time.perf_counter()
        if self.bounds.max_seconds is not None:
            self._deadline = self._started + self.bounds.max_seconds
        try:
            self._bfs() if self.search == "bfs" else self._dfs()
        except KeyboardInterrupt:
            self.bounds_hit.append(BoundHit("interrupted", None, self._frontier_left))
        elapsed = time.perf_counter() - self._started
        return self._result(elapsed)

    _frontier_left = 0

    def _bfs(self) -> None:
        encode, actions, store = self.model.encode, self.model.actions, self.store
        label_ids, label_id = self.label_ids, self._label_id
        frontier = self._initial()
        self.levels.append(len(frontier))
        depth = 0
        max_depth, max_states = self.bounds.max_depth, self.bounds.max_states
        while frontier and not self._should_stop():
            if max_depth is not None and depth >= max_depth:
                self._cut_at_depth(frontier)
                return
            following: list[tuple[int, Any]] = []
            for start in range(0, len(frontier), CHUNK):
                self._frontier_left = len(frontier) - start + len(following)
                if self._out_of_time():
                    self.bounds_hit.append(
                        BoundHit("time", self.bounds.max_seconds, self._frontier_left)
                    )
                    return
                successors: list[Any] = []
                fps: list[int] = []
                parents: list[int] = []
                labels: list[int] = []
                for parent, state in frontier[start : start + CHUNK]:
                    before = len(successors)
                    for label, successor in actions(state):
                        lid = label_ids.get(label)
                        if lid is None:
                            lid = label_id(label)
                        successors.append(successor)
                        fps.append(fingerprint(encode(successor)))
                        parents.append(parent)
                        labels.append(lid)
                    if len(successors) == before:
                        self._deadlock(parent)
                    if self.record_graph:
                        self._expanded.append(parent)
                self.generated += len(successors)
                first_new = store.count
                indices, new_positions = store.add_batch(
                    np.array(fps, dtype=np.uint64),
                    np.array(parents, dtype=np.uint32),
                    np.array(labels, dtype=np.uint32),
                )
                if self.record_graph:
                    self._edges.append(
                        (np.array(parents, dtype=np.int64), indices, np.array(labels))
                    )
                check = self._check
                for offset, position in enumerate(new_positions.tolist()):
                    successor = successors[position]
                    check(first_new + offset, successor)
                    following.append((first_new + offset, successor))
                self._report(depth + 1, len(frontier) - start + len(following))
                if self._should_stop():
                    left = len(frontier) - start - CHUNK
                    self.bounds_hit.append(
                        BoundHit("stopped at first violation", None, max(left, 0) + len(following))
                    )
                    return
                if max_states is not None and store.count >= max_states:
                    left = max(len(frontier) - start - CHUNK, 0) + len(following)
                    self.bounds_hit.append(BoundHit("states", max_states, left))
                    self.levels.append(len(following))
                    return
            frontier = following
            depth += 1
            if frontier:
                self.levels.append(len(frontier))

    def _cut_at_depth(self, frontier: Iterable[tuple[int, Any]]) -> None:
        """The depth bound: report it only if an unexplored state lies beyond it."""
        encode, actions = self.model.encode, self.model.actions
        cut = 0
        beyond: set[int] = set()
        for index, state in frontier:
            successors = [fingerprint(encode(s)) for _, s in actions(state)]
            if not successors:
                self._deadlock(index)
                continue
            unseen = [fp for fp in successors if self.store.find(fp) < 0]
            if unseen:
                cut += 1
                beyond.update(unseen)
        if beyond:
            self.bounds_hit.append(
                BoundHit(
                    "depth",
                    self.bounds.max_depth,
                    cut,
                    f"{len(beyond)} distinct states lie one step beyond it",
                )
            )

    def _dfs(self) -> None:
        encode, actions, store = self.model.encode, self.model.actions, self.store
        label_ids, label_id = self.label_ids, self._label_id
        max_depth, max_states = self.bounds.max_depth, self.bounds.max_states
        depths = store  # read store.depths each time: the array is replaced when it grows
        stack: list[tuple[int, Any, int]] = [(i, s, 0) for i, s in reversed(self._initial())]
        cut: set[int] = set()
        beyond: set[int] = set()
        expanded = 0
        while stack:
            index, state, depth = stack.pop()
            if depths.depths[index] < depth:
                continue  # superseded by a shorter path that re-pushed this state
            self._frontier_left = len(stack)
            if max_depth is not None and depth >= max_depth:
                self._note_cut(index, state, cut, beyond)
                continue
            children = []
            count = 0
            for label, successor in actions(state):
                count += 1
                fp = fingerprint(encode(successor))
                known = store.find(fp)
                lid = label_ids.get(label)
                if lid is None:
                    lid = label_id(label)
                if known < 0:
                    child = store.add(fp, index, lid, depth + 1)
                    self._check(child, successor)
                    children.append((child, successor, depth + 1))
                elif max_depth is not None and depths.depths[known] > depth + 1:
                    store.relink(known, index, lid, depth + 1)
                    cut.discard(known)
                    children.append((known, successor, depth + 1))
                if self.record_graph:
                    self._dfs_edges.append((index, known if known >= 0 else child, lid))
            self.generated += count
            if count == 0:
                self._deadlock(index)
            if self.record_graph:
                self._expanded.append(index)
            stack.extend(reversed(children))
            expanded += 1
            if expanded % CHUNK == 0:
                self._report(depth, len(stack))
                if self._out_of_time():
                    self.bounds_hit.append(BoundHit("time", self.bounds.max_seconds, len(stack)))
                    return
            if self._should_stop():
                self.bounds_hit.append(BoundHit("stopped at first violation", None, len(stack)))
                return
            if max_states is not None and store.count >= max_states:
                self.bounds_hit.append(BoundHit("states", max_states, len(stack)))
                return
        beyond = {fp for fp in beyond if store.find(fp) < 0}
        if beyond:
            self.bounds_hit.append(
                BoundHit(
                    "depth", max_depth, len(cut),
                    f"{len(beyond)} distinct states lie one step beyond it",
                )
            )

    def _note_cut(self, index: int, state: Any, cut: set[int], beyond: set[int]) -> None:
        encode = self.model.encode
        successors = [fingerprint(encode(s)) for _, s in self.model.actions(state)]
        if not successors:
            self._deadlock(index)
        unseen = [fp for fp in successors if self.store.find(fp) < 0]
        if unseen:
            cut.add(index)
            beyond.update(unseen)

    # ------------------------------------------------------------------ results
    def trace_to(self, index: int) -> Trace:
        """The path the store recorded to state ``index``, rebuilt as full states."""
        parents, labels, fps = self.store.parents, self.store.labels, self.store.fps
        path_labels: list[str] = []
        path_fps: list[int] = []
        while True:
            path_fps.append(int(fps[index]))
            parent = int(parents[index])
            if parent == NO_PARENT:
                initial_number = int(labels[index])
                break
            path_labels.append(self.label_names[int(labels[index])])
            index = parent
        path_labels.reverse()
        path_fps.reverse()
        return execute(self.model, initial_number, path_labels, path_fps)

    def goal_values(self, name: str) -> np.ndarray:
        """Per stored state, whether liveness property ``name``'s goal holds there."""
        return np.frombuffer(bytes(self._goals[name][1]), dtype=np.uint8).astype(bool)

    def initial_index(self, index: int) -> int:
        """Which initial state (position in ``initial_states()``) a root index stores."""
        return int(self.store.labels[index])

    def graph(self) -> Graph:
        """The recorded transition graph (requires ``record_graph=True``)."""
        if not self.record_graph:
            raise RuntimeError("the graph was not recorded (record_graph=False)")
        if self._dfs_edges:
            edges = np.array(self._dfs_edges, dtype=np.int64).reshape(-1, 3)
            self._edges.append((edges[:, 0], edges[:, 1], edges[:, 2]))
            self._dfs_edges = []
        if self._edges:
            src = np.concatenate([e[0] for e in self._edges])
            dst = np.concatenate([e[1] for e in self._edges])
            lab = np.concatenate([e[2] for e in self._edges])
        else:
            src = dst = lab = np.zeros(0, dtype=np.int64)
        expanded = np.zeros(self.store.count, dtype=bool)
        expanded[np.array(self._expanded, dtype=np.int64)] = True
        return Graph(src, dst, lab, self.label_names, expanded)

    def _result(self, elapsed: float) -> Result:
        complete = not self.bounds_hit
        verdicts: dict[str, Verdict] = {}
        for prop in self.properties:
            verdict = Verdict(prop.name, prop.kind, NOT_CHECKED, description=prop.description)
            if prop.kind is PropertyKind.INVARIANT:
                if prop.name in self.violations:
                    verdict.status = VIOLATED
                    verdict.trace = self.trace_to(self.violations[prop.name])
                else:
                    verdict.status = HOLDS if complete else HOLDS_WITHIN_BOUNDS
            elif prop.kind is PropertyKind.WITNESS:
                if prop.name in self.witnesses:
                    verdict.status = WITNESS_FOUND
                    verdict.trace = self.trace_to(self.witnesses[prop.name])
                else:
                    verdict.status = WITNESS_NOT_FOUND
                    if not complete:
                        verdict.note = "within the explored bounds"
            elif self.liveness is None:
                verdict.note = "no liveness checker is installed"
            elif not complete:
                verdict.note = "liveness is checked only on complete (exhausted) state graphs"
            else:
                verdict = self.liveness(self.model, prop, self)
            verdicts[prop.name] = verdict
        levels = self.levels
        if self.search == "dfs" and self.store.count:
            levels = np.bincount(self.store.depths[: self.store.count]).tolist()
        stats = Stats(
            distinct=self.store.count,
            generated=self.generated,
            max_depth=max(len(levels) - 1, 0),
            levels=levels,
            elapsed=elapsed,
            store_bytes=self.store.memory_bytes(),
            collision_probability=collision_probability(self.store.count, self.generated),
            deadlocks=self.deadlocks,
        )
        result = Result(
            model=self.model.name,
            search=self.search,
            bounds=self.bounds,
            verdicts=verdicts,
            stats=stats,
            bounds_hit=self.bounds_hit,
            check_deadlock=self.check_deadlock,
        )
        if self.check_deadlock and self.deadlock_index is not None:
            result.deadlock_trace = self.trace_to(self.deadlock_index)
        return result


def _select(all_props: Sequence[Property], names: Sequence[str] | None) -> list[Property]:
    if names is None:
        return list(all_props)
    by_name = {p.name: p for p in all_props}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name)) or "none"
        raise KeyError(f"unknown property {unknown[0]!r} (known: {known})")
    return [by_name[n] for n in dict.fromkeys(names)]


def explore(model: Model, **options: Any) -> Result:
    """Run one search; see ``Search`` for the options."""
    return Search(model, **options).run()
