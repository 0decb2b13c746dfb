"""Partitioned breadth-first search gives the single-process results for every worker count.

Each configuration the suite counts exactly (the toy models, tests/test_fle_counts.py, the
specs) is explored by the single-process ``Search`` and by ``ParallelSearch`` with 1 shard
in this process and 2 and 3 worker processes: distinct states, per-level counts, verdicts
and trace lengths must be equal, and the partitioned traces must be the same for every
worker count (links and violations are merged in fingerprint order).
"""

from __future__ import annotations

import gc
import os
import signal
from pathlib import Path

import pytest
from fle_testlib import full_search, model
from test_fle_counts import CASES

from zkcheck.explorer import Bounds, Search, explore
from zkcheck.explorer.backends import InProcess, Processes, _worker
from zkcheck.explorer.fingerprint import fingerprint
from zkcheck.explorer.liveness import check_liveness
from zkcheck.explorer.parallel import ParallelSearch, make_search
from zkcheck.explorer.shard import ShardPlan
from zkcheck.fle_options import build_fle_model
from zkcheck.model.toys import Grid, Mutex, Philosophers, Ring, toy_model
from zkcheck.model.variants import Variant
from zkcheck.specs import find_specs, run_spec

SPECS = Path(__file__).resolve().parent.parent / "specs"
WORKERS = [(1, "in-process"), (2, "processes"), (3, "processes")]


def summary(result) -> tuple:
    verdicts = {name: (v.status, len(v.trace) if v.trace is not None else None)
                for name, v in result.verdicts.items() if v.kind.value != "liveness"}
    return result.stats.distinct, result.stats.levels, verdicts, result.complete


def traces(result) -> dict:
    return {name: v.trace.labels for name, v in result.verdicts.items()
            if v.trace is not None}


def compare(m, stopped: bool = False, reference=None, **options) -> None:
    """``stopped``: the run stops at its first violation, which a single process does
    mid-level (its counts depend on the order it expands states in), while the partitioned
    search finishes the level: then only verdicts and trace lengths are compared.
    ``reference``: the single-process run with ``options``, when a shared one exists."""
    if reference is None:
        reference = Search(m, **options).run()
    seen = []
    for workers, backend in WORKERS:
        result = ParallelSearch(m, workers=workers, backend=backend, **options).run()
        if stopped:
            assert summary(result)[2] == summary(reference)[2], (workers, backend)
        else:
            assert summary(result) == summary(reference), (workers, backend)
            assert result.stats.generated == reference.stats.generated
            assert result.extra["coverage"] == reference.extra["coverage"]
        seen.append((traces(result), summary(result)))
    assert seen[0] == seen[1] == seen[2]


@pytest.mark.parametrize("toy", [Grid(3, 4), Grid(10, 7), Mutex(), Mutex(fixed=True),
                                 Ring(4), Philosophers(3), toy_model("counter:5,reset")],
                         ids=lambda t: t.name)
def test_toys_equal_single_process(toy) -> None:
    compare(toy, bounds=Bounds())
    compare(toy, bounds=Bounds(max_depth=3))


@pytest.mark.parametrize(("servers", "config", "distinct"), CASES,
                         ids=[f"{s}-{c}" for s, c, _ in CASES])
def test_fle_counts_equal_single_process(servers, config, distinct) -> None:
    # the single-process run is the one tests/test_fle_counts.py checks; ``compare`` asserts
    # that 1, 2 and 3 workers find its exact count
    reference = full_search(servers, config)
    assert reference.stats.distinct == distinct
    compare(model(servers, **config), reference=reference, bounds=Bounds())


def test_depth_bound_and_deadlocks_equal() -> None:
    m = model(3)
    compare(m, reference=full_search(3, {}, bounds=Bounds(max_depth=9)),
            bounds=Bounds(max_depth=9))
    compare(Grid(4, 4), bounds=Bounds(max_depth=5), check_deadlock=True)
    compare(Grid(4, 4), bounds=Bounds(), check_deadlock=True)


def test_steals_change_nothing(monkeypatch) -> None:
    # a shard that runs out of work within a level takes half of another's remainder
    # (``ParallelSearch._steal``); with small expansion calls the in-process shards, which
    # take turns, leave one such remainder in level 9, so exactly one steal; the worker
    # processes steal as timing has it. Nothing found may change.
    monkeypatch.setattr("zkcheck.explorer.parallel.CHUNK", 256)
    reference = full_search(3, {}, bounds=Bounds(max_depth=13))
    assert reference.stats.distinct == 78_450
    seen = []
    for workers, backend in ((2, "in-process"), (2, "processes"), (3, "processes")):
        result = ParallelSearch(model(3), workers=workers, backend=backend,
                                bounds=Bounds(max_depth=13)).run()
        assert summary(result) == summary(reference), (workers, backend)
        assert result.stats.generated == reference.stats.generated
        if backend == "in-process":
            assert result.extra["workers"]["steals"] == 1
        seen.append(traces(result))
    assert seen[0] == seen[1] == seen[2]


def steal_the_root(make_backend) -> None:
    """Seed the initial state, then have the shard that does not own it steal it: the
    taker must expand it and the giver have nothing left (any backend)."""
    m = model(3)
    root = m.initial_states()[0]
    fp = fingerprint(m.encode(root))
    giver, taker = fp % 2, 1 - fp % 2
    backend = make_backend(m, ShardPlan(2, ("Leadership",)))
    try:
        backend.call_all("seed", [(fp, 0, root)])
        assert backend.call_all("unread_count")[giver] == 1
        backend.start_steal(giver, taker, 1, 64, False)
        done = []
        while not done:
            done = backend.finished()
        [(shard, report)] = done
        assert (shard, report.expanded, report.generated) == (taker, 1, len(m.actions(root)))
        backend.drain()
        assert backend.call_all("unread_count") == [0, 0]
    finally:
        backend.close()


@pytest.mark.parametrize("backend", [InProcess, Processes], ids=["in-process", "processes"])
def test_a_steal_moves_states_to_the_taker(backend) -> None:
    steal_the_root(backend)


class _Pipe:
    """A worker's end of the pipe, with every message already waiting in it."""

    def __init__(self, messages: list) -> None:
        self.messages = list(messages)
        self.sent: list = []

    def poll(self) -> bool:
        return bool(self.messages)

    def recv(self) -> object:
        if not self.messages:
            raise EOFError
        return self.messages.pop(0)

    def send(self, reply: object) -> None:
        self.sent.append(reply)


def test_a_worker_answers_before_it_expands() -> None:
    # calls waiting in the pipe run before the expand calls queued with them, which run
    # in their own order; each reply carries its call's number
    m = model(3)
    root = m.initial_states()[0]
    pipe = _Pipe([(1, "seed", ([(fingerprint(m.encode(root)), 0, root)],)),
                  (2, "expand", (64, False)), (3, "expand", (64, False)),
                  (4, "unread_count", ())])
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        _worker(pipe, m, 0, ShardPlan(1, ()))
    finally:  # the worker's process settings, undone for this one
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])
        gc.enable()
    assert [(call, status) for call, status, _ in pipe.sent] == [
        (None, "ok"), (1, "ok"), (4, "ok"), (2, "ok"), (3, "ok")]
    assert pipe.sent[2][2] == 1  # the root, not yet expanded
    assert pipe.sent[3][2].expanded == 1 and pipe.sent[4][2].expanded == 0


def test_workers_are_pinned_only_when_they_take_every_cpu() -> None:
    allowed = sorted(os.sched_getaffinity(0))
    for workers in (len(allowed), len(allowed) + 1):
        if workers < 2:
            continue  # one worker runs in this process
        result = ParallelSearch(Grid(10, 7), workers=workers, backend="processes",
                                bounds=Bounds()).run()
        stats = result.extra["workers"]
        cpus = [w["cpus"] for w in stats["per_worker"]]
        if workers == len(allowed):
            assert stats["pinned"] and cpus == [[c] for c in allowed]
        else:
            assert not stats["pinned"] and cpus == [allowed] * workers


def test_violation_shortest_and_identical_traces() -> None:
    # ZOOKEEPER-975 (R2): DecisionSupported violated at depth 12, the same trace everywhere
    m = build_fle_model(late=[3], max_round=1, variant_flags=["exit_when_all_heard"])
    compare(m, bounds=Bounds(max_depth=12), properties=["DecisionSupported"])
    compare(m, stopped=True, bounds=Bounds(max_depth=12), stop_at_first=True)


def test_por_partitioned_equals_single_process() -> None:
    for servers, config in ((2, {"crashes": 1, "restarts": 1}),
                            (3, {"scenario": "leader-crash", "timeouts": 1})):
        m = model(servers, **config)
        # requested by name, witnesses get their shortest traces (``exact_traces``); an
        # unrequested one keeps the reduced search's trace, whose length may depend on the
        # order of states within a level (BoundStall: 15 or 16 steps with crashes)
        names = [p.name for p in m.properties() if p.kind.value != "liveness"]
        reference = Search(m, bounds=Bounds(), por=True, properties=names).run()
        for workers in (1, 2, 3):
            result = ParallelSearch(m, workers=workers, bounds=Bounds(), por=True,
                                    properties=names).run()
            assert result.stats.distinct == reference.stats.distinct
            assert summary(result)[2] == summary(reference)[2]
            assert result.extra["por"]["reduced_states"] > 0


def test_spilled_levels_give_the_same_run(tmp_path: Path) -> None:
    m = model(2, crashes=1, restarts=1)
    spill = tmp_path / "spill"
    result = ParallelSearch(m, workers=2, bounds=Bounds(), spill=spill,
                            memory_states=50).run()
    assert result.stats.distinct == 40071  # 35596 before setepoch/newleader-ack (§7)
    assert result.extra["workers"]["spilled_bytes_max"] > 0
    assert list(spill.iterdir()) == []  # level files are removed at the end


def test_make_search_keeps_one_process_where_needed() -> None:
    m = model(2)
    assert type(make_search(m, search="dfs")) is Search
    assert type(make_search(m, record_graph=True)) is Search
    assert type(make_search(m)) is ParallelSearch
    with pytest.raises(ValueError, match="breadth-first only"):
        make_search(m, workers=2, search="dfs")
    # liveness that only a graph of this run could judge: not with workers, and why
    optional = model(2, optional_timeouts=True)
    result = make_search(optional, workers=2, liveness=check_liveness).run()
    note = result.verdicts["EventuallyElected"].note
    assert "one process" in note and result.complete
    # liveness judged on the model's companion (its own one-process graph): every worker
    # count gives the single process's verdicts, and this run keeps no graph (POR is on)
    alone = Search(m, bounds=Bounds(), liveness=check_liveness)
    assert not alone.record_graph
    single = alone.run()
    assert single.stats.distinct == 434
    for workers in (1, 2):
        search = make_search(m, workers=workers, liveness=check_liveness, por=True)
        assert type(search) is ParallelSearch and not search.record_graph
        result = search.run()
        assert result.stats.distinct == 162 and result.extra["por"]["enabled"]
        for name in ("EventuallyElected", "JoinerEventuallyJoins"):
            verdict, alone = result.verdicts[name], single.verdicts[name]
            assert verdict.status == alone.status == "holds"
            assert "judged on the liveness companion: 203 states" in verdict.note


# Specs re-run partitioned (test time: each partitioned run of a spec repeats the same
# search code on another model; `zkcheck check specs/` runs every spec in one process).
# Each one stands for a feature of the specs' runs: a depth bound with a shortest
# counterexample (1514; 975's spec is the run test_violation_shortest_and_identical_traces
# compares for 1, 2 and 3 workers), a complete run with liveness (judged on the companion) and
# a violation (1191), a violation in the initial state and a liveness counterexample, with levels of
# thousands of states in several chunks (1419), crashes and restarts, link failures with
# client writes, observers in an established ensemble, non-atomic replies, a leader crash,
# a search that starts after a replayed prefix (790).
# The sampled specs are not re-run: their walks do not depend on the worker count. The two
# largest (startup, r7-leadership, about a million states each) are left out too: levels
# larger than a shard's memory are the spill test's case, here with 50 states a level.
PARTITIONED_SPECS = {
    2: ["r3-1514-buggy", "zk1191-buggy", "r1-1419-buggy",
        "faults-crash-restart", "faults-links-writes", "faults-observer-crash",
        "leader-crash-nonatomic", "r6-1343-buggy", "r13-790-buggy"],
    3: ["r3-1514-buggy", "zk1191-buggy", "r1-1419-buggy",
        "faults-crash-restart", "faults-observer-crash"],
}


@pytest.mark.slow
@pytest.mark.parametrize("workers", [2, 3])
def test_specs_with_workers(workers: int) -> None:
    specs = {spec.name: spec for spec in find_specs([SPECS])}
    for name in PARTITIONED_SPECS[workers]:
        spec = specs[name]  # a KeyError: a spec named above was renamed or removed
        outcome = run_spec(spec, workers)
        assert outcome.result.extra["workers"]["count"] == workers, name
        # liveness without a companion needs the whole graph in one process: such runs say so
        unchecked = {prop for prop, v in outcome.result.verdicts.items()
                     if v.kind.value == "liveness" and v.status == "not checked"
                     and "one process" in v.note}
        left = [m for m in outcome.mismatches if m.split(":")[0] not in unchecked]
        assert not left, (spec.name, left)


def test_single_process_reference_is_explore() -> None:
    # the reference the comparisons use is the public single-process search
    m = model(2)
    assert explore(m).stats.distinct == Search(m).run().stats.distinct == 434


def test_observer_symmetry_partitioned() -> None:
    m = model(4, observers=[3, 4])
    m._group = m.symmetry_group("observers")
    compare(m, bounds=Bounds(max_depth=8), symmetry=True)


def test_por_with_a_depth_bound_and_a_violation_partitioned() -> None:
    # ZOOKEEPER-975 (3 servers): under POR with a depth bound the shortest counterexample
    # is re-checked by full partitioned search: 10 steps, as in full single-process search
    config = {"variant": Variant.from_flags(["exit_when_all_heard"])}
    m = model(3, **config)
    options = {"bounds": Bounds(max_depth=12), "properties": ["DecisionSupported"]}
    full = full_search(3, config, **options)  # shared with tests/test_reductions.py
    for workers in (1, 2):
        por = ParallelSearch(m, workers=workers, por=True, **options).run()
        assert summary(por)[2] == summary(full)[2] == {"DecisionSupported": ("violated", 10)}


def test_independence_checks_run_in_every_shard() -> None:
    # the POR debug mode (--check-independence) is not lost when the search is partitioned
    m = model(2, crashes=1, restarts=1)
    reference = Search(m, por=True, check_independence=3).run()
    for workers in (1, 2):
        result = ParallelSearch(m, workers=workers, por=True, check_independence=3).run()
        # 10371 before setepoch/newleader-ack (§7)
        assert result.stats.distinct == reference.stats.distinct == 13052
        assert result.extra["por"]["independence_checks"] > 0
