"""Breadth-first search partitioned by fingerprint: one search, several backends.

The coordinator runs the level loop; shards (``zkcheck.explorer.shard``) own the states of
their hash partition, expand them and send successors to their owners; a backend
(``zkcheck.explorer.backends``) decides where shards live. Levels stay synchronised: level
``d + 1`` is complete before any of its states is expanded, so per-level counts and the
depth of the first violation are those of a single process. Within a level, each state
keeps the smallest link ``(parent fingerprint, action position)`` among its predecessors,
and each property the smallest violating fingerprint of the shallowest level: results are
merged in fingerprint order, so counts, verdicts and traces are the same for every worker
count and backend.

What the single-process ``Search`` has and this does not: depth-first search and a
recorded graph (liveness); those runs refuse ``workers`` with the reason, and liveness
properties are reported "not checked" here.
"""

from __future__ import annotations

import gc
import os
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from zkcheck.explorer import checkpoint as ckpt
from zkcheck.explorer.backends import InProcess, Processes
from zkcheck.explorer.coverage import action_coverage
from zkcheck.explorer.frontier import BLOCK, MEMORY_STATES, SpillFull, resident_bytes
from zkcheck.explorer.linkstore import NO_PARENT_FP
from zkcheck.explorer.model import Model, PropertyKind
from zkcheck.explorer.result import BoundHit, Result
from zkcheck.explorer.search import Progress, Search
from zkcheck.explorer.shard import LevelReport, ShardPlan
from zkcheck.explorer.trace import Trace

CHUNK = 2048  # states one shard expands per call (unless the backend names its own)
IN_FLIGHT = 2  # expand calls queued per worker (one shard in this process: 1)

__all__ = ["MEMORY_STATES", "ParallelSearch", "SpillFull", "make_search"]


class _Totals:
    """The store as ``Search._result`` reads it: the sum over shards."""

    fps = None

    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0

    def memory_bytes(self) -> int:
        return self.bytes


class ParallelSearch(Search):
    """Partitioned breadth-first search (see the module docstring).

    ``workers``: number of shards; ``backend``: ``"in-process"``, ``"processes"``, or a
    factory ``(model, plan) -> backend`` (Ray). ``spill``: directory for level files
    (default: a temporary directory, removed at the end). ``checkpoint``: directory for a
    checkpoint after every level (at most every ``checkpoint_every`` seconds); ``resume``:
    continue from one. ``identity``: what a checkpoint must match to be resumed (model
    options and search settings). ``model_factory``: a picklable function that builds the
    model, for backends whose shards run elsewhere (a compiled model cannot be pickled).
    """

    def __init__(self, model: Model, *, workers: int = 1,
                 backend: str | Callable[[Any, ShardPlan], Any] = "processes",
                 spill: str | Path | None = None, memory_states: int = MEMORY_STATES,
                 checkpoint: str | Path | None = None, checkpoint_every: float = 0.0,
                 resume: str | Path | None = None, identity: dict | None = None,
                 model_factory: Callable[[], Model] | None = None,
                 **options: Any) -> None:
        if options.get("search", "bfs") != "bfs":
            raise ValueError("parallel search is breadth-first only (depth-first search "
                             "runs in one process)")
        if options.get("record_graph"):
            raise ValueError("parallel search records no graph (liveness and graph "
                             "pictures need one process)")
        liveness = options.pop("liveness", None)
        por = options.pop("por", False)
        self.check_every = options.get("check_independence", 0)  # POR debug mode, per shard
        super().__init__(model, **options)
        if liveness is not None and not self.bounded and self._companion_judges_all():
            # judged on the companion's own graph (one process), not on this run's
            self.liveness, self.companion_judges = liveness, True
        self.liveness_off = ("liveness is checked only in runs without a depth bound "
                             "(the graph is recorded only then)")
        self.workers = workers
        self.backend_kind = backend
        self.spill_root = Path(spill) if spill is not None else None
        self.memory_states = memory_states
        self.checkpoint_dir = Path(checkpoint) if checkpoint is not None else None
        self.checkpoint_every = checkpoint_every
        self.resume_dir = Path(resume) if resume is not None else None
        self.identity = identity or {}
        self.model_factory = model_factory  # a picklable recipe, for shards on other hosts
        self.store = _Totals()
        self.por_enabled = False
        if por:
            self._setup_por()
        self._interrupted = False
        self.depth = 0
        self.reports: list[LevelReport] = []
        self.checkpoints_written = 0
        self.spill_bytes = 0
        self.spill_peak = 0
        self.rss_bytes = 0
        self.rss_peak = 0
        self._links: dict[int, tuple[int, int, int]] = {}
        self._elapsed_before = 0.0
        self._deadlock_key: tuple[int, int] | None = None
        self.backend: Any = None

    def _setup_por(self) -> None:
        from zkcheck.explorer.por import make_reducer

        reducer, note = make_reducer(self, 0)
        if reducer is None:
            self.por_note = note
        elif getattr(self.model, "por_measure", None) is None:
            self.por_note = ("off: partitioned search needs the model's por_measure (the "
                             "stored-successor proviso depends on the search order)")
        else:
            self.por_enabled = True
            self.por_note = ""

    # ------------------------------------------------------------------ plumbing
    def _plan(self, spill_dir: str | None) -> ShardPlan:
        names = tuple(p.name for p in self.properties
                      if p.kind in (PropertyKind.INVARIANT, PropertyKind.WITNESS))
        return ShardPlan(self.workers, names, self.symmetry, self.por_enabled,
                         self.check_every, spill_dir, self.memory_states)

    def _make_backend(self, plan: ShardPlan) -> Any:
        kind = self.backend_kind
        if callable(kind):  # Ray: actors build the model from the recipe when there is one
            return kind(self.model_factory or self.model, plan)
        if kind == "in-process" or (kind == "processes" and self.workers == 1):
            return InProcess(self.model, plan)
        if kind == "processes":
            return Processes(self.model, plan)
        raise ValueError(f"unknown backend {kind!r}")

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._interrupted = True

    # ------------------------------------------------------------------ run
    def run(self) -> Result:
        self._started = time.perf_counter()
        if self.bounds.max_seconds is not None:
            self._deadline = self._started + self.bounds.max_seconds
        main = threading.current_thread() is threading.main_thread()
        old = {}
        if main:
            for sig in (signal.SIGINT, signal.SIGTERM):
                old[sig] = signal.signal(sig, self._on_signal)
        temp = None
        collecting = gc.isenabled()
        gc.disable()  # see Search.run: states are acyclic, full passes cost more than search
        try:
            if self.spill_root is not None:
                self.spill_root.mkdir(parents=True, exist_ok=True)
                temp = tempfile.TemporaryDirectory(prefix="zkcheck-spill-",
                                                   dir=self.spill_root)
            else:
                temp = tempfile.TemporaryDirectory(prefix="zkcheck-spill-")
            plan = self._plan(temp.name)
            self.backend = self._make_backend(plan)
            self.chunk = getattr(self.backend, "chunk", CHUNK)  # states per expand call
            try:
                self._search()
            finally:
                self._collect_links()
                self.backend.close()
        finally:
            if collecting:
                gc.enable()
            for sig, handler in old.items():
                signal.signal(sig, handler)
            if temp is not None:
                temp.cleanup()
        if self.por_enabled:
            from zkcheck.explorer.por import exact_traces

            self.extra["por"] = _sum_por(self.reports)
            exact_traces(self)
        elif self.por_note:
            self.extra["por"] = {"enabled": False, "note": self.por_note}
        self.fired = self._fired_total()
        self.extra["coverage"] = action_coverage(self.model, self.fired)
        self.extra["workers"] = self._worker_stats()
        if self.checkpoint_dir is not None:
            self.extra["checkpoint"] = {"dir": str(self.checkpoint_dir),
                                        "written": self.checkpoints_written}
        elapsed = time.perf_counter() - self._started + self._elapsed_before
        return self._result(elapsed)

    def _search(self) -> None:
        backend = self.backend
        if self.resume_dir is not None:
            self._restore()
        else:
            self._seed()
        max_depth = self.bounds.max_depth
        last_checkpoint = -float("inf")  # the first level is always checkpointed
        while True:
            frontier = sum(r.frontier for r in self.reports) if self.reports else 0
            if not frontier or self._should_stop():
                return
            at_bound = max_depth is not None and self.depth >= max_depth
            stopped = self._expand_level(at_bound)
            if stopped:
                return
            self._finish_level()
            if at_bound:
                self._depth_cut()
                return
            if self._should_stop():
                left = sum(r.frontier for r in self.reports)
                self.bounds_hit.append(BoundHit(self._stop_label(), None, left))
                return
            decided = sorted(self._decided())
            moved = b"".join(r.extra.get("moved", b"") for r in self.reports)
            backend.call_all("begin_level", decided, moved)
            self.depth += 1
            self._balance()
            self._refresh_frontier()
            now = time.perf_counter()
            if self.checkpoint_dir is not None and now - last_checkpoint >= \
                    self.checkpoint_every:
                self._write_checkpoint(mid_level=False)
                last_checkpoint = time.perf_counter()

    def _balance(self) -> None:
        """Even out the new level: shards keep the states they found new, so a shard
        that expanded more keeps more; move the excess over 10% above the mean."""
        backend = self.backend
        if backend.count < 2:
            return
        sizes = backend.call_all("unread_count")
        mean = sum(sizes) / len(sizes)
        if max(sizes) - mean < BLOCK or max(sizes) <= 1.1 * mean:
            return  # less than a block to move
        givers = [[k, s - mean] for k, s in enumerate(sizes) if s > 1.05 * mean]
        for k, size in enumerate(sizes):
            need = mean - size
            while need > BLOCK / 2 and givers:
                giver = givers[0]
                amount = int(min(need, giver[1]))
                data = backend.call(giver[0], "export", amount)
                got = backend.call(k, "import_states", data) - size
                size += got
                need -= got
                giver[1] -= max(got, 1)
                if giver[1] <= BLOCK / 2:
                    givers.pop(0)

    def _seed(self) -> None:
        roots = []
        for number, state in enumerate(self.model.initial_states()):
            self.generated += 1  # as TLC: initial states count as generated
            if self.constraint is None or self.constraint(state):
                roots.append((self._fp_one(state), number, state))
        self.backend.call_all("seed", roots)
        self._finish_level()

    def _refresh_frontier(self) -> None:
        """After ``begin_level``: every shard's frontier is its current level."""
        counts = self.backend.call_all("end_level")
        self.reports = counts

    def _expand_level(self, at_bound: bool) -> bool:
        """Run expansion rounds over the current level; True if a bound stopped the run."""
        backend, n = self.backend, self.backend.count
        chunk = self.chunk
        stored = {k: r.stored for k, r in enumerate(self.reports)}
        # expand calls in flight per shard: a second one queued behind the first keeps a
        # worker busy while the coordinator forwards the first one's batches
        target = IN_FLIGHT if n > 1 else 1
        in_flight = [0] * n
        for k in range(n):
            for _ in range(target):
                backend.start_expand(k, chunk, at_bound)
                in_flight[k] += 1
        left = [r.frontier for r in self.reports]  # unexpanded, as last reported
        stop: BoundHit | None = None
        unseen = 0
        while any(in_flight):
            for shard, report in backend.finished():
                in_flight[shard] -= 1
                stored[shard] = report.stored
                left[shard] = report.left
                self.generated += report.generated
                if at_bound:
                    unseen += sum(backend.drain())
                probing_done = at_bound and unseen and not self.por_enabled and \
                    not self.check_deadlock
                if stop is not None or probing_done:
                    continue
                if report.more:
                    while in_flight[shard] < target:
                        backend.start_expand(shard, chunk, at_bound)
                        in_flight[shard] += 1
                elif not in_flight[shard] and self._steal(shard, left, in_flight, at_bound):
                    in_flight[shard] += 1
            self.store.count = sum(stored.values())
            if stop is None:
                stop = self._bound_now()
            self._progress(stored)
        unseen += sum(backend.drain())
        self._probe_unseen = unseen
        if stop is not None:
            self._finish_level()
            stop = BoundHit(stop.bound, stop.limit, sum(r.frontier for r in self.reports))
            self.bounds_hit.append(stop)
            if self.checkpoint_dir is not None:
                self._write_checkpoint(mid_level=True)
            return True
        return False

    _probe_unseen = 0
    steals = 0  # work moved to an idle shard within a level (see _steal)

    def _steal(self, taker: int, left: list[int], in_flight: list[int],
               at_bound: bool) -> bool:
        """Shard ``taker`` has nothing left to expand in this level: give it half of what
        the busiest shard will still have once its queued calls are done, so that no
        worker waits at the level's end while another works through its remainder (on
        this 2-core machine a shard ran dry 0.1-0.8 s before the other in each large
        level). Not under partial-order reduction: a shard's states reached by 0-cost
        steps and already expanded are known only to it."""
        if self.por_enabled:
            return False
        ahead = [left[k] - in_flight[k] * self.chunk for k in range(len(left))]
        giver = max(range(len(left)), key=ahead.__getitem__)
        amount = ahead[giver] // 2
        if giver == taker or amount < BLOCK:
            return False
        self.backend.start_steal(giver, taker, amount, self.chunk, at_bound)
        left[giver] -= amount
        self.steals += 1
        return True

    def _bound_now(self) -> BoundHit | None:
        if self._interrupted:
            return BoundHit("interrupted", None, 0)
        if self._out_of_time():
            return BoundHit("time", self.bounds.max_seconds, 0)
        max_states = self.bounds.max_states
        if max_states is not None and self.store.count >= max_states:
            return BoundHit("states", max_states, 0)
        return None

    def _finish_level(self) -> None:
        reports = self.backend.call_all("end_level")
        self.reports = reports
        self._absorb(reports)
        self._levels_from(reports)

    def _levels_from(self, reports: Sequence[LevelReport]) -> None:
        merged: dict[int, int] = {}
        for r in reports:
            for level, count in r.level_counts.items():
                merged[level] = merged.get(level, 0) + count
        top = max((lv for lv, c in merged.items() if c), default=-1)
        self.levels = [merged.get(lv, 0) for lv in range(top + 1)]

    def _absorb(self, reports: Sequence[LevelReport]) -> None:
        """Totals, the properties decided and deadlocks, merged in fingerprint order."""
        self.store.count = sum(r.stored for r in reports)
        self.store.bytes = sum(r.memory_bytes for r in reports)
        self.spill_bytes = sum(r.spill_bytes for r in reports)
        self.spill_peak = max(self.spill_peak, self.spill_bytes)
        self.deadlocks = sum(r.deadlocks for r in reports)
        kinds = {p.name: p.kind for p in self.properties}
        best: dict[str, tuple[int, int]] = {}
        for r in reports:
            for name, found in r.found.items():
                if name not in best or found < best[name]:
                    best[name] = found
        for name, (_, fp) in sorted(best.items()):
            target = self.violations if kinds.get(name) is PropertyKind.INVARIANT \
                else self.witnesses
            target.setdefault(name, fp)
        lock = [r.deadlock for r in reports if r.deadlock is not None]
        if self._deadlock_key is not None:
            lock.append(self._deadlock_key)
        if lock:
            self._deadlock_key = min(lock)
            self.deadlock_index = self._deadlock_key[1]
        self.rss_bytes = _rss_total(reports)
        self.rss_peak = max(self.rss_peak, self.rss_bytes)

    def _fired_total(self) -> Counter:
        """Transitions generated per label, summed over the shards."""
        total: Counter = Counter()
        for r in self.reports:
            total.update(r.extra.get("fired", {}))
        return total

    def _decided(self) -> set[str]:
        return set(self.violations) | set(self.witnesses)

    def _should_stop(self) -> bool:
        pending = {p.name for p in self.properties
                   if p.kind in (PropertyKind.INVARIANT, PropertyKind.WITNESS)}
        if self._stop_when_decided and pending <= self._decided():
            return True
        if self.stop_at_witness and self.stop_at_witness <= set(self.witnesses):
            return True
        return self.stop_at_first and bool(self.violations)

    def _depth_cut(self) -> None:
        """At the depth bound: report it only if an unexplored state lies beyond it."""
        unseen = self._probe_unseen
        if unseen:
            left = sum(r.frontier for r in self.reports) or self.levels[-1]
            if self.check_deadlock:
                detail = f"{unseen} distinct states lie one step beyond it"
            else:
                detail = "unexplored states lie one step beyond it"
            self.bounds_hit.append(BoundHit("depth", self.bounds.max_depth, left, detail))

    def _progress(self, stored: dict[int, int]) -> None:
        if self.progress is None:
            return
        elapsed = time.perf_counter() - self._started
        self.progress(Progress(self.store.count, self.generated, self.depth + 1,
                               sum(r.frontier for r in self.reports), elapsed,
                               list(self.levels), workers=self.backend.count,
                               shard_states=[stored[k] for k in sorted(stored)],
                               rss_bytes=self.rss_bytes, spill_bytes=self.spill_bytes))

    # ------------------------------------------------------------------ traces
    def _collect_links(self) -> None:
        """Fetch the links of every state a verdict needs a trace to (before shards go)."""
        wanted = list(self.violations.values()) + list(self.witnesses.values())
        if self.deadlock_index is not None:
            wanted.append(self.deadlock_index)
        n = self.backend.count
        for fp in wanted:
            while fp not in self._links:
                link = self.backend.call(fp % n, "link", fp)
                if link is None:
                    raise RuntimeError(f"state {fp:#x} has no stored link")
                self._links[fp] = link
                if link[0] == int(NO_PARENT_FP):
                    break
                fp = link[0]

    def trace_to(self, index: int) -> Trace:
        """The path of settled links to the state with fingerprint ``index``, re-executed
        from its initial state; each step is the action at the recorded position, or (under
        symmetry, where the replayed state may be another member of the orbit) the first
        action reaching the recorded fingerprint."""
        chain = []
        fp = index
        while True:
            parent, pos, _ = self._links[fp]
            chain.append((fp, pos))
            if parent == int(NO_PARENT_FP):
                break
            fp = parent
        chain.reverse()
        root_fp, number = chain[0]
        initial = state = self.model.initial_states()[number]
        if self._fp_one(state) != root_fp:
            raise RuntimeError("the initial state does not match its stored fingerprint")
        steps = []
        for step_no, (fp, pos) in enumerate(chain[1:], start=1):
            acts = list(self.model.actions(state))
            if pos < len(acts) and self._fp_one(acts[pos][1]) == fp:
                label, state = acts[pos]
            else:
                match = [a for a in acts if self._fp_one(a[1]) == fp]
                if not match:
                    raise RuntimeError(f"step {step_no} is not reproducible in the model")
                label, state = match[0]
            steps.append((label, state))
        return Trace(initial, tuple(steps))

    liveness_reason = ""  # set when a single process would not have recorded the graph

    def _result(self, elapsed: float) -> Result:
        if self.liveness_reason:
            self.liveness_off = self.liveness_reason
        elif not self.bounds_hit and not self.bounded:
            self.liveness_off = ("liveness needs the whole state graph in one process; "
                                 "partitioned search keeps none (run with --workers 1)")
        elif self.bounds_hit:
            self.liveness_off = "liveness is checked only on complete (exhausted) state graphs"
        return super()._result(elapsed)

    def _sub_search(self, **options: Any) -> Search:
        return ParallelSearch(self.model, workers=self.workers, backend=self.backend_kind,
                              spill=self.spill_root, memory_states=self.memory_states,
                              symmetry=self.symmetry, model_factory=self.model_factory,
                              **options)

    # ------------------------------------------------------------------ reports
    def _worker_stats(self) -> dict[str, Any]:
        elapsed = max(time.perf_counter() - self._started, 1e-9)
        per = [{"shard": r.shard, "stored": r.stored, "expanded": r.expanded,
                "expanded_per_s": r.expanded / elapsed, "cpus": r.extra.get("cpus")}
               for r in self.reports]
        stored = [r.stored for r in self.reports] or [0]
        backend = getattr(self.backend, "name", "unknown")
        return {"count": self.workers, "backend": backend, "per_worker": per,
                "balance": (max(stored) / min(stored)) if min(stored) else None,
                "steals": self.steals,
                "pinned": bool(getattr(self.backend, "cpus", None)),
                "rss_bytes_max": self.rss_peak, "spilled_bytes_max": self.spill_peak,
                "spilled_bytes_per_state": self._spill_per_state()}

    def _spill_per_state(self) -> float:
        states = sum(r.extra.get("packed_states", 0) for r in self.reports)
        total = sum(r.extra.get("packed_total", 0) for r in self.reports)
        return total / states if states else 0.0

    # ------------------------------------------------------------------ checkpoints
    def _write_checkpoint(self, mid_level: bool) -> None:
        counters = {"depth": self.depth, "decided": sorted(self._decided()),
                    "levels": self.levels, "generated": self.generated,
                    "violations": self.violations, "witnesses": self.witnesses,
                    "fired": dict(self._fired_total()),
                    "deadlock": self._deadlock_key, "deadlocks": self.deadlocks,
                    "elapsed": time.perf_counter() - self._started + self._elapsed_before,
                    "mid_level": mid_level}
        ckpt.write(self.checkpoint_dir, self.backend, self.identity, counters)
        self.checkpoints_written += 1

    def _restore(self) -> None:
        counters = ckpt.restore(self.resume_dir, self.backend, self.identity)
        self.depth = counters["depth"]
        self.generated = counters["generated"]
        self.violations = {k: int(v) for k, v in counters["violations"].items()}
        self.witnesses = {k: int(v) for k, v in counters["witnesses"].items()}
        self._elapsed_before = counters["elapsed"]
        key = counters["deadlock"]
        self._deadlock_key = tuple(key) if key is not None else None
        self._finish_level()


def _sum_por(reports: Sequence[LevelReport]) -> dict[str, Any]:
    """The shards' partial-order reduction counters, added up."""
    total: dict[str, Any] = {"enabled": True, "partitioned": True}
    for r in reports:
        for key, value in r.extra.get("por", {}).items():
            if isinstance(value, bool) or not isinstance(value, int):
                total.setdefault(key, value)
            else:
                total[key] = total.get(key, 0) + value
    return total


def _rss_total(reports: Sequence[LevelReport]) -> int:
    """Resident bytes of every process taking part (the coordinator and the shards')."""
    pids = {os.getpid(): resident_bytes()}
    for r in reports:
        pid = r.extra.get("pid")
        if pid is not None and pid not in pids:
            pids[pid] = r.extra.get("rss", 0)
    return sum(pids.values())


def make_search(model: Model, *, workers: int = 1, **options: Any) -> Search:
    """The search for these options: partitioned breadth-first search, or the
    single-process ``Search`` where only it can do the job (depth-first search, a recorded
    graph, liveness on a complete run); with ``workers > 1`` those are refused (ValueError
    with the reason) or, for liveness, reported "not checked" with the reason."""
    parallel_only = {"backend", "spill", "memory_states", "checkpoint", "checkpoint_every",
                     "resume", "identity", "model_factory"}
    single = {k: v for k, v in options.items() if k not in parallel_only}
    probe = Search(model, **single)
    saving = any(options.get(k) for k in ("checkpoint", "resume"))
    if probe.search == "dfs" or single.get("record_graph"):
        if saving:
            raise ValueError("checkpoints are written by breadth-first search without a "
                             "recorded graph; this run needs "
                             + ("depth-first search" if probe.search == "dfs"
                                else "the state graph"))
        if workers == 1:
            return probe
    elif probe.record_graph and workers == 1 and not saving:
        bounds = probe.bounds
        if bounds.max_states is None and bounds.max_seconds is None \
                and not probe.stop_at_witness:
            return probe  # liveness on a complete run: the single-process search records it
        # a state, time or witness bound: the run may well stop before the graph is
        # complete, and the graph costs hundreds of bytes per state; liveness is then not
        # checked
        search = ParallelSearch(model, workers=workers, **options)
        search.liveness_reason = ("liveness is checked only in runs without a depth, state, "
                                  "time or witness bound (the graph is recorded only then)")
        return search
    return ParallelSearch(model, workers=workers, **options)
