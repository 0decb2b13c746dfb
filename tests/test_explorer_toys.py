"""The explorer on toy models whose answers are counted by hand."""

from __future__ import annotations

import pytest

from zkcheck.explorer import (
    HOLDS,
    HOLDS_WITHIN_BOUNDS,
    VIOLATED,
    WITNESS_FOUND,
    WITNESS_NOT_FOUND,
    Bounds,
    ReplayError,
    Trace,
    explore,
    replay,
)
from zkcheck.model.toys import Grid, Mutex, Philosophers, Ring

SEARCHES = ["bfs", "dfs"]


@pytest.mark.parametrize("search", SEARCHES)
@pytest.mark.parametrize("n,m", [(0, 0), (1, 1), (3, 4), (10, 7)])
def test_grid_counts_and_diameter(search: str, n: int, m: int) -> None:
    result = explore(Grid(n, m), search=search, check_deadlock=True)
    assert result.complete
    assert result.stats.distinct == (n + 1) * (m + 1)
    # every state but the row/column ends has two successors
    assert result.stats.generated == 1 + n * (m + 1) + m * (n + 1)  # + the initial state
    assert result.stats.deadlocks == 1
    corner = result.verdicts["Corner"]
    if search == "bfs":
        assert result.stats.max_depth == n + m
        assert result.stats.levels == [
            sum(1 for x in range(n + 1) for y in range(m + 1) if x + y == d)
            for d in range(n + m + 1)
        ]
        assert len(corner.trace) == n + m  # shortest path to the corner
    assert corner.status == WITNESS_FOUND
    assert result.verdicts["InBounds"].status == HOLDS
    assert result.verdicts["Beyond"].status == WITNESS_NOT_FOUND
    assert result.deadlock_trace is not None and result.deadlock_trace.final == (n, m)


@pytest.mark.parametrize("search", SEARCHES)
def test_mutex_violation_at_depth_four(search: str) -> None:
    result = explore(Mutex(), search=search)
    assert result.stats.distinct == 9
    verdict = result.verdicts["MutualExclusion"]
    assert verdict.status == VIOLATED
    assert verdict.trace.final == (2, 2)
    if search == "bfs":
        assert len(verdict.trace) == 4
        assert verdict.trace.labels == ["p1:check", "p2:check", "p1:enter", "p2:enter"]
    replay(Mutex(), verdict.trace)
    assert not result.ok


@pytest.mark.parametrize("search", SEARCHES)
def test_fixed_mutex_holds(search: str) -> None:
    result = explore(Mutex(fixed=True), search=search)
    assert result.stats.distinct == 3
    assert result.verdicts["MutualExclusion"].status == HOLDS
    assert result.ok


@pytest.mark.parametrize("search", SEARCHES)
def test_cycle_terminates(search: str) -> None:
    result = explore(Ring(50), search=search, check_deadlock=True)
    assert result.stats.distinct == 50
    assert result.stats.generated == 51  # 50 transitions + the initial state
    assert result.stats.deadlocks == 0
    assert len(result.verdicts["Wrapped"].trace) == 49


@pytest.mark.parametrize("search", SEARCHES)
def test_philosophers_deadlock(search: str) -> None:
    result = explore(Philosophers(2), search=search, check_deadlock=True)
    assert result.stats.distinct == 6
    assert result.stats.deadlocks == 1
    assert result.deadlock_trace.final == (1, 1)
    assert len(result.deadlock_trace) == 2
    assert not result.ok  # a requested deadlock check that finds one fails the run
    assert explore(Philosophers(2), search=search).ok  # not requested: not reported


@pytest.mark.parametrize("model", [Grid(6, 5), Mutex(), Ring(7), Philosophers(3),
                                   Philosophers(4), Philosophers(5)])
def test_bfs_and_dfs_agree(model) -> None:
    bfs, dfs = explore(model, search="bfs"), explore(model, search="dfs")
    assert bfs.stats.distinct == dfs.stats.distinct
    assert bfs.stats.generated == dfs.stats.generated
    assert {k: v.status for k, v in bfs.verdicts.items()} == {
        k: v.status for k, v in dfs.verdicts.items()}


def test_philosophers_counts() -> None:
    # by hand: each philosopher is thinking, holds the left fork or eats, with the fork
    # constraints; N=3 leaves 14 of the 27 combinations reachable
    assert explore(Philosophers(3)).stats.distinct == 14


@pytest.mark.parametrize("search", SEARCHES)
@pytest.mark.parametrize("depth", range(0, 9))
def test_depth_bound(search: str, depth: int) -> None:
    result = explore(Grid(3, 4), search=search, bounds=Bounds(max_depth=depth))
    expected = sum(1 for x in range(4) for y in range(5) if x + y <= depth)
    assert result.stats.distinct == expected
    if depth >= 7:
        assert result.complete
        assert result.verdicts["InBounds"].status == HOLDS
    else:
        [hit] = result.bounds_hit
        assert hit.bound == "depth" and hit.limit == depth
        assert hit.frontier == sum(1 for x in range(4) for y in range(5) if x + y == depth)
        assert result.verdicts["InBounds"].status == HOLDS_WITHIN_BOUNDS
        assert result.verdicts["Corner"].status == WITNESS_NOT_FOUND
        assert result.verdicts["Corner"].note == (
            "within the explored bounds; not requested, does not fail the run")
        assert result.ok  # witnesses fail a run only when requested by name
        asked = explore(Grid(3, 4), search=search, bounds=Bounds(max_depth=depth),
                        properties=["Corner"])
        assert asked.verdicts["Corner"].note == "within the explored bounds"
        assert not asked.ok


@pytest.mark.parametrize("search", SEARCHES)
def test_state_bound(search: str) -> None:
    result = explore(Grid(300, 300), search=search, bounds=Bounds(max_states=1000))
    [hit] = result.bounds_hit
    assert hit.bound == "states" and hit.limit == 1000
    assert result.stats.distinct >= 1000
    assert hit.frontier > 0
    assert result.verdicts["InBounds"].status == HOLDS_WITHIN_BOUNDS


@pytest.mark.parametrize("search", SEARCHES)
def test_time_bound(search: str) -> None:
    result = explore(Grid(2000, 2000), search=search, bounds=Bounds(max_seconds=0.2))
    [hit] = result.bounds_hit
    assert hit.bound == "time"
    assert 0 < result.stats.distinct < 2001 * 2001
    assert result.stats.elapsed < 5


def test_stop_at_first() -> None:
    result = explore(Grid(20, 20), stop_at_first=True)
    assert result.verdicts["NotCorner"].status == VIOLATED
    assert result.bounds_hit[0].bound == "stopped at first violation"


@pytest.mark.parametrize("search", SEARCHES)
def test_deterministic(search: str) -> None:
    runs = [explore(Philosophers(4), search=search, check_deadlock=True) for _ in range(2)]
    assert runs[0].stats.distinct == runs[1].stats.distinct
    assert runs[0].stats.levels == runs[1].stats.levels
    assert runs[0].deadlock_trace == runs[1].deadlock_trace
    a, b = (explore(Mutex(), search=search).verdicts["MutualExclusion"].trace for _ in range(2))
    assert a == b


def test_every_trace_replays() -> None:
    for model in (Grid(4, 3), Mutex(), Ring(9), Philosophers(3)):
        for search in SEARCHES:
            result = explore(model, search=search, check_deadlock=True)
            traces = [v.trace for v in result.verdicts.values() if v.trace is not None]
            traces += [result.deadlock_trace] if result.deadlock_trace else []
            assert traces
            for trace in traces:
                replay(model, trace)


def test_replay_rejects_a_stale_trace() -> None:
    trace = explore(Mutex()).verdicts["MutualExclusion"].trace
    with pytest.raises(ReplayError, match="step 1"):
        replay(Mutex(fixed=True), trace)  # the fixed model has no "check" action
    bad = Trace(trace.initial, trace.steps[:2] + (("p1:enter", (0, 0)),))
    with pytest.raises(ReplayError, match="step 3: action 'p1:enter' leads to a different"):
        replay(Mutex(), bad)
    with pytest.raises(ReplayError, match="step 0"):
        replay(Mutex(), Trace((1, 1), ()))


def test_property_selection() -> None:
    result = explore(Grid(2, 2), properties=["Corner"])
    assert list(result.verdicts) == ["Corner"]
    with pytest.raises(KeyError, match="unknown property 'Nope'"):
        explore(Grid(2, 2), properties=["Nope"])


def test_store_memory_is_reported() -> None:
    result = explore(Grid(300, 300))
    assert result.stats.store_bytes > 0
    assert result.stats.bytes_per_state <= 32
    assert 0 <= result.stats.collision_probability < 1e-9
