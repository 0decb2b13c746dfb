"""Breadth-first and depth-first exhaustive search over a Model.

Breadth-first search runs level by level, in chunks whose successors are fingerprinted in
Python and deduplicated against the store with vectorised numpy operations; the first
violation of an invariant is therefore found at minimal depth and its trace is a shortest
counterexample. Depth-first search is iterative (an explicit stack, no recursion limit);
with a depth bound it re-expands a state reached again by a shorter path, so that it
explores exactly the states within the bound, like breadth-first search.

A model may define ``constraint(state) -> bool`` (TLC's state constraint): a successor
outside it is counted as generated but neither checked nor stored, and its parent is not a
deadlock. "generated" counts initial states too, as TLC does. Per action kind the search
counts the transitions generated (``extra["coverage"]``, like TLC's coverage).

Reductions (both optional, both off unless asked for): partial-order reduction
(``por=True``, breadth-first only; ``zkcheck.explorer.por``) and symmetry (``symmetry=True``:
fingerprints of ``model.canonical(state)``, ``zkcheck.explorer.symmetry``). Traces always
re-execute the recorded labels from the original initial state, so they show the original
server ids and values.

The search knows nothing about the protocol: it only calls the Model interface.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

from zkcheck.explorer.compact_store import CompactStore
from zkcheck.explorer.coverage import action_coverage
from zkcheck.explorer.fingerprint import collision_probability, fingerprinters
from zkcheck.explorer.model import (
    Model,
    Property,
    PropertyKind,
    explanation_of,
    select_properties,
)
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
from zkcheck.explorer.trace import Trace, step

ASSUME = "assume:"  # key prefix of a liveness assumption's values next to the goals
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
    workers: int = 1
    shard_states: list[int] = field(default_factory=list)  # stored states per shard
    rss_bytes: int = 0  # resident memory of every process of the run (0: not measured)
    spill_bytes: int = 0  # level files on disk now


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
    """One exhaustive search; build it, call ``run()``, read the Result.

    ``por``: partial-order reduction (breadth-first search, models with ``ample_for``; off
    when a graph is recorded or deadlocks are counted); ``check_independence=k`` re-checks
    the independence claims on every k-th reduced state (0 = never). ``symmetry``:
    fingerprints of ``model.canonical(state)``.
    """

    def __init__(
        self,
        model: Model,
        *,
        search: str = "bfs",
        bounds: Bounds | None = None,
        properties: Sequence[str] | None = None,
        check_deadlock: bool = False,
        stop_at_first: bool = False,
        stop_at_witness: Sequence[str] = (),
        record_graph: bool = False,
        liveness: LivenessChecker | None = None,
        progress: ProgressCallback | None = None,
        por: bool = False,
        check_independence: int = 0,
        symmetry: bool = False,
    ):
        if search not in ("bfs", "dfs"):
            raise ValueError(f"unknown search {search!r} (bfs or dfs)")
        self.model = model
        self.search = search
        self.bounds = bounds or Bounds()
        self.check_deadlock = check_deadlock
        self.stop_at_first = stop_at_first
        self.stop_at_witness = frozenset(stop_at_witness)
        self.progress = progress
        self.liveness = liveness
        self.properties = select_properties(model.properties(), properties)
        # witnesses fail a run only when asked for by name; in an "all properties" run they
        # are reported for information
        self.witnesses_required = properties is not None
        # liveness needs the whole graph; a depth-bounded run is almost never complete, so
        # it does not pay for recording one (the verdict then says why it was skipped)
        self.bounded = self.bounds.max_depth is not None
        wants_liveness = liveness is not None and not self.bounded and any(
            p.kind is PropertyKind.LIVENESS for p in self.properties
        )
        # a model's liveness companion (see _companion_verdicts) that judges every liveness
        # property explores its own graph: this run then records none
        self.companion_judges = wants_liveness and self._companion_judges_all()
        self.record_graph = record_graph or (wants_liveness and not self.companion_judges)
        self.symmetry = symmetry
        self._fp_one, self._fp_many = fingerprinters(model, symmetry)
        self.constraint: Callable[[Any], bool] | None = getattr(model, "constraint", None)
        self.fired: Counter[str] = Counter()  # transitions generated per label
        self._por = None
        self.por_note = ""
        if por:
            from zkcheck.explorer.por import make_reducer

            self._por, self.por_note = make_reducer(self, check_independence)
        compact = search == "bfs" and not self.record_graph
        self.store: StateStore | CompactStore = (
            CompactStore() if compact else StateStore(with_depth=search == "dfs"))
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
        # and their assumptions, under the key ASSUME + name
        self._goals.update({ASSUME + p.name: (p.assume, bytearray()) for p in self.properties
                            if p.kind is PropertyKind.LIVENESS and p.assume is not None
                            and self.record_graph})
        self.violations: dict[str, int] = {}
        self.witnesses: dict[str, int] = {}
        self._traces: dict[str, Trace | None] = {}  # set by the exact re-search after POR
        self._notes: dict[str, str] = {}
        self._stop_when_decided = False
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
        self.extra: dict[str, Any] = {}
        self.liveness_off = ""  # why liveness is not checked, where a subclass cannot

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
        if self._stop_when_decided and not self._pending_inv and not self._pending_wit:
            return True
        if self.stop_at_witness and self.stop_at_witness <= set(self.witnesses):
            return True
        return self.stop_at_first and bool(self.violations)

    def _stop_label(self) -> str:
        """Why ``_should_stop`` stopped the run, for the bounds line."""
        if self.stop_at_first and self.violations:
            return "stopped at first violation"
        return "stopped: witness found (" + ", ".join(sorted(self.stop_at_witness)) + ")"

    def _out_of_time(self) -> bool:
        return self._deadline is not None and time.perf_counter() >= self._deadline

    def _sub_search(self, **options: Any) -> Search:
        """A full breadth-first search of the same model (for POR's exact traces)."""
        return Search(self.model, search="bfs", symmetry=self.symmetry, **options)

    def known(self, fps: Sequence[int]) -> np.ndarray:
        """Whether each fingerprint is already stored (a bool array)."""
        array = np.array(fps, dtype=np.uint64)
        if isinstance(self.store, CompactStore):
            return self.store.contains_batch(array)
        return self.store.find_batch(array) >= 0

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
        constraint = self.constraint
        for number, state in enumerate(self.model.initial_states()):
            self.generated += 1
            if constraint is not None and not constraint(state):
                continue
            fp = self._fp_one(state)
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
        # States are acyclic tuples, so the cyclic garbage collector finds nothing; but with
        # millions of live tuples each of its full passes costs more than the search itself
        # (measured: FLE successor generation 2.5x faster without it).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._bfs() if self.search == "bfs" else self._dfs()
        except KeyboardInterrupt:
            self.bounds_hit.append(BoundHit("interrupted", None, self._frontier_left))
        finally:
            if collecting:
                gc.enable()
        self.extra["coverage"] = action_coverage(self.model, self.fired)
        if self._por is not None:
            from zkcheck.explorer.por import exact_traces

            self.extra["por"] = self._por.stats()
            exact_traces(self)
        elif self.por_note:
            self.extra["por"] = {"enabled": False, "note": self.por_note}
        elapsed = time.perf_counter() - self._started
        return self._result(elapsed)

    _frontier_left = 0

    def _expand_all(self, chunk: list[tuple[int, Any]]) -> tuple[list, list, list]:
        """Successors, parent indices and label ids of every state of ``chunk``."""
        actions, label_ids = self.model.actions, self.label_ids
        pairs: list[tuple[str, Any]] = []
        parents: list[int] = []
        for parent, state in chunk:
            acts = actions(state)
            if type(acts) is not list:
                acts = list(acts)
            if not acts:
                self._deadlock(parent)
                continue
            pairs.extend(acts)
            parents.extend(repeat(parent, len(acts)))
        if not pairs:
            return [], parents, []
        self.generated += len(pairs)
        labels, successors = zip(*pairs, strict=True)  # unzipped in C
        self.fired.update(labels)
        if self.constraint is not None:
            keep = list(map(self.constraint, successors))
            if not all(keep):
                labels, successors, parents = _kept(keep, labels, successors, parents)
                if not successors:
                    return [], parents, []
        lids = list(map(label_ids.get, labels))
        if None in lids:
            lids = list(map(self._label_id, labels))
        return list(successors), parents, lids

    def _bfs(self) -> None:
        store, por = self.store, self._por
        frontier = self._initial()
        self.levels.append(len(frontier))
        depth = 0
        max_depth, max_states = self.bounds.max_depth, self.bounds.max_states
        while frontier and not self._should_stop():
            at_bound = max_depth is not None and depth >= max_depth
            if at_bound and por is None:
                self._cut_at_depth(frontier)
                return
            following: list[tuple[int, Any]] = []
            cut: list[tuple[int, Any]] = []
            pos = 0
            while pos < len(frontier):  # POR appends same-level states to ``frontier``
                chunk = frontier[pos : pos + CHUNK]
                self._frontier_left = len(frontier) - pos + len(following)
                pos += len(chunk)
                if self._out_of_time():
                    self.bounds_hit.append(
                        BoundHit("time", self.bounds.max_seconds, self._frontier_left)
                    )
                    return
                if por is None:
                    successors, parents, labels = self._expand_all(chunk)
                    fps = self._fp_many(successors)
                    n_same = 0
                else:
                    full, reduced = por.split(chunk)
                    # reduced successors first: a state reached both ways stays on this level
                    successors = [r[2] for r in reduced]
                    parents = [r[0] for r in reduced]
                    labels = [self._label_id(r[1]) for r in reduced]
                    self.fired.update(r[1] for r in reduced)
                    self.generated += len(reduced)
                    fps = [r[3] for r in reduced]
                    n_same = len(reduced)
                    if at_bound:
                        cut.extend(full)
                    else:
                        s2, p2, l2 = self._expand_all(full)
                        successors += s2
                        parents += p2
                        labels += l2
                        fps += self._fp_many(s2)
                if self.record_graph:
                    self._expanded.extend(parent for parent, _ in chunk)
                first_new = store.count
                parent_array = np.array(parents, dtype=np.uint32)
                indices, new_positions = store.add_batch(
                    np.array(fps, dtype=np.uint64), parent_array,
                    np.array(labels, dtype=np.uint32),
                )
                if self.record_graph:
                    self._edges.append(
                        (parent_array.astype(np.int64), indices,
                         np.array(labels, dtype=np.int64))
                    )
                check = self._check
                for offset, position in enumerate(new_positions.tolist()):
                    successor = successors[position]
                    check(first_new + offset, successor)
                    (frontier if position < n_same else following).append(
                        (first_new + offset, successor))
                self._report(depth + 1, len(frontier) - pos + len(following))
                if self._should_stop():
                    left = len(frontier) - pos + len(following)
                    self.bounds_hit.append(
                        BoundHit(self._stop_label(), None, left)
                    )
                    return
                if max_states is not None and store.count >= max_states:
                    left = len(frontier) - pos + len(following)
                    self.bounds_hit.append(BoundHit("states", max_states, left))
                    self.levels[-1] = len(frontier)
                    self.levels.append(len(following))
                    return
            self.levels[-1] = len(frontier)
            if at_bound:
                self._cut_at_depth(cut)
                return
            frontier = following
            depth += 1
            if frontier:
                self.levels.append(len(frontier))

    def _cut_at_depth(self, frontier: list[tuple[int, Any]]) -> None:
        """The depth bound: report it only if an unexplored state lies beyond it.

        Counting deadlocks or recording a graph needs every frontier state expanded;
        otherwise the scan stops at the first frontier state with an unseen successor
        (expanding the last level costs as much as a whole level of search).
        """
        actions = self.model.actions
        exact = self.check_deadlock or self.record_graph
        cut = 0
        beyond: set[int] = set()
        for index, state in frontier:
            successors = [s for _, s in actions(state)]
            if not successors:
                self._deadlock(index)
                continue
            fps = self._fp_many(self._inside(successors))
            if not fps:
                continue
            seen = self.known(fps)
            if not seen.all():
                cut += 1
                beyond.update(fp for fp, s in zip(fps, seen.tolist(), strict=True) if not s)
                if not exact:
                    break
        if not beyond:
            return
        if exact:
            hit = BoundHit("depth", self.bounds.max_depth, cut,
                           f"{len(beyond)} distinct states lie one step beyond it")
        else:
            hit = BoundHit("depth", self.bounds.max_depth, len(frontier),
                           "unexplored states lie one step beyond it")
        self.bounds_hit.append(hit)

    def _dfs(self) -> None:
        actions, store, fp_one = self.model.actions, self.store, self._fp_one
        label_ids, label_id = self.label_ids, self._label_id
        max_depth, max_states = self.bounds.max_depth, self.bounds.max_states
        constraint = self.constraint
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
                self.fired[label] += 1
                if constraint is not None and not constraint(successor):
                    continue
                fp = fp_one(successor)
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
                self.bounds_hit.append(BoundHit(self._stop_label(), None, len(stack)))
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

    def _inside(self, states: list) -> list:
        """The states within the model's constraint (all of them without one)."""
        if self.constraint is None:
            return states
        return [s for s in states if self.constraint(s)]

    def _note_cut(self, index: int, state: Any, cut: set[int], beyond: set[int]) -> None:
        states = [s for _, s in self.model.actions(state)]
        if not states:
            self._deadlock(index)
        successors = self._fp_many(self._inside(states))
        unseen = [fp for fp in successors if self.store.find(fp) < 0]
        if unseen:
            cut.add(index)
            beyond.update(unseen)

    # ------------------------------------------------------------------ results
    def trace_to(self, index: int) -> Trace:
        """The path the store recorded to state ``index``, rebuilt by re-executing its labels
        from the original initial state; each rebuilt state is checked against the store
        (its fingerprint, or membership in the fingerprint set)."""
        parents, labels = self.store.parents, self.store.labels
        path: list[tuple[int, str]] = []
        while True:
            parent = int(parents[index])
            if parent == NO_PARENT:
                initial_number = int(labels[index])
                break
            path.append((index, self.label_names[int(labels[index])]))
            index = parent
        path.reverse()
        initial = state = self.model.initial_states()[initial_number]
        self._verify(index, state, 0, "initial state")
        steps = []
        for number, (at, label) in enumerate(path, start=1):
            try:
                state = step(self.model, state, label)
            except LookupError:
                raise RuntimeError(f"step {number} ({label}) is no longer enabled") from None
            self._verify(at, state, number, label)
            steps.append((label, state))
        return Trace(initial, tuple(steps))

    def _verify(self, index: int, state: Any, number: int, label: str) -> None:
        fp = self._fp_one(state)
        fps = self.store.fps
        ok = int(fps[index]) == fp if fps is not None else self.store.find(fp) >= 0
        if not ok:
            raise RuntimeError(f"step {number} ({label}) is not deterministic in the model")

    def goal_values(self, name: str) -> np.ndarray:
        """Per stored state, whether liveness property ``name``'s goal holds there."""
        return np.frombuffer(bytes(self._goals[name][1]), dtype=np.uint8).astype(bool)

    def assumption_values(self, name: str) -> np.ndarray | None:
        """Per stored state, whether liveness property ``name``'s assumption holds there
        (None: the property assumes nothing)."""
        if ASSUME + name not in self._goals:
            return None
        return self.goal_values(ASSUME + name)

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

    def _trace_of(self, name: str, index: int) -> Trace | None:
        if name in self._traces:
            return self._traces[name]
        return self.trace_to(index)

    def _liveness_names(self) -> list[str]:
        return [p.name for p in self.properties if p.kind is PropertyKind.LIVENESS]

    def _liveness_companion(self) -> tuple[Model, list[str]] | None:
        """The model's ``liveness_companion`` for this run's liveness properties:
        ``(model, names it judges)``, or None (see ``_companion_verdicts``)."""
        companion = getattr(self.model, "liveness_companion", None)
        names = self._liveness_names()
        return companion(names) if companion is not None and names else None

    def _companion_judges_all(self) -> bool:
        """Whether the model's liveness companion judges every liveness property of this
        run (then this run needs no graph of its own)."""
        chosen = self._liveness_companion()
        return chosen is not None and set(self._liveness_names()) <= set(chosen[1])

    def _companion_verdicts(self) -> dict[str, Verdict]:
        """Liveness verdicts judged on the model's liveness companion, if it names one.

        A model may define ``liveness_companion(names) -> (model, names) | None``: another
        model (same states and labels, e.g. with timeouts that always fire once progress
        stops) on which the listed liveness properties are judged, so that liveness can
        assume more than safety without changing the safety state space. The companion is
        explored here, with the same bounds; a witness among the names it returns is only
        reported in the liveness verdicts' notes (its own verdict stays this run's)."""
        chosen = self._liveness_companion()
        if chosen is None:
            return {}
        other, judged = chosen
        sub = Search(other, bounds=self.bounds, properties=judged, liveness=self.liveness)
        result = sub.run()
        qualifiers = "".join(
            f", {v.name} {v.status}" + (f" at depth {len(v.trace)}" if v.trace else "")
            for v in result.verdicts.values() if v.kind is PropertyKind.WITNESS)
        summary = (f"judged on the liveness companion: {result.stats.distinct:,} states"
                   f"{qualifiers}")
        verdicts = {}
        for name, verdict in result.verdicts.items():
            if verdict.kind is PropertyKind.LIVENESS:
                verdict.note = "; ".join(x for x in (verdict.note, summary) if x)
                verdicts[name] = verdict
        return verdicts

    def _result(self, elapsed: float) -> Result:
        complete = not self.bounds_hit
        verdicts: dict[str, Verdict] = {}
        judged_elsewhere: dict[str, Verdict] = {}
        if complete and self.liveness is not None and (
                self.record_graph or self.companion_judges):
            judged_elsewhere = self._companion_verdicts()
        for prop in self.properties:
            verdict = Verdict(prop.name, prop.kind, NOT_CHECKED, description=prop.description)
            if prop.kind is PropertyKind.INVARIANT:
                if prop.name in self.violations:
                    verdict.status = VIOLATED
                    verdict.trace = self._trace_of(prop.name, self.violations[prop.name])
                else:
                    verdict.status = HOLDS if complete else HOLDS_WITHIN_BOUNDS
            elif prop.kind is PropertyKind.WITNESS:
                if prop.name in self.witnesses:
                    verdict.status = WITNESS_FOUND
                    verdict.trace = self._trace_of(prop.name, self.witnesses[prop.name])
                else:
                    verdict.status = WITNESS_NOT_FOUND
                    verdict.required = self.witnesses_required
                    notes = [] if complete else ["within the explored bounds"]
                    if not verdict.required:
                        notes.append("not requested, does not fail the run")
                    verdict.note = "; ".join(notes)
            elif self.liveness is None:
                verdict.note = self.liveness_off or "no liveness checker is installed"
            elif not complete:
                verdict.note = "liveness is checked only on complete (exhausted) state graphs"
            elif self.bounded and not self.record_graph:
                verdict.note = ("liveness is checked only in runs without a depth bound "
                                "(the graph is recorded only then)")
            elif prop.name in judged_elsewhere:
                verdict = judged_elsewhere[prop.name]
            else:
                verdict = self.liveness(self.model, prop, self)
            if prop.name in self._notes:
                verdict.note = "; ".join(x for x in (verdict.note, self._notes[prop.name]) if x)
            verdict.explanation = explanation_of(prop, verdict.trace)
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
            extra=dict(self.extra),
        )
        if self.check_deadlock and self.deadlock_index is not None:
            result.deadlock_trace = self.trace_to(self.deadlock_index)
        return result


def _kept(keep: list[bool], labels: Sequence[str], successors: Sequence[Any],
          parents: list[int]) -> tuple[list[str], list[Any], list[int]]:
    """The transitions whose successor lies within the constraint."""
    picked = [i for i, k in enumerate(keep) if k]
    return ([labels[i] for i in picked], [successors[i] for i in picked],
            [parents[i] for i in picked])


def explore(model: Model, **options: Any) -> Result:
    """Run one search; see ``Search`` for the options."""
    return Search(model, **options).run()
