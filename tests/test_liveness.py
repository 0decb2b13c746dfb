"""Liveness under weak fairness on toy models with known answers."""

from __future__ import annotations

from zkcheck.explorer import HOLDS, NOT_CHECKED, VIOLATED, Bounds, explore, replay
from zkcheck.explorer.liveness import check_liveness
from zkcheck.model.toys import Counter


def test_unfair_cycles_do_not_count() -> None:
    verdict = explore(Counter(3), liveness=check_liveness).verdicts["ReachesTop"]
    assert verdict.status == HOLDS
    assert verdict.note == "holds under weak fairness: 2 cycle(s) avoiding the goal are unfair"


def test_fair_cycle_is_a_lasso() -> None:
    model = Counter(4, reset=True)
    verdict = explore(model, liveness=check_liveness).verdicts["ReachesTop"]
    assert verdict.status == VIOLATED
    trace = verdict.trace
    assert trace.labels == ["inc", "reset"] and trace.loop_start == 0
    assert trace.final == trace.initial
    replay(model, trace)  # also checks that the loop closes


def test_vacuous_goal_is_reported() -> None:
    verdict = explore(Counter(1), liveness=check_liveness).verdicts["ReachesTop"]
    assert verdict.status == HOLDS and verdict.note.startswith("vacuous")


def test_liveness_needs_a_complete_graph() -> None:
    result = explore(Counter(5, reset=True), liveness=check_liveness,
                     bounds=Bounds(max_depth=2))
    verdict = result.verdicts["ReachesTop"]
    assert verdict.status == NOT_CHECKED
    assert "complete" in verdict.note


def test_dfs_agrees() -> None:
    for model in (Counter(3), Counter(4, reset=True)):
        bfs = explore(model, liveness=check_liveness).verdicts["ReachesTop"]
        dfs = explore(model, search="dfs", liveness=check_liveness).verdicts["ReachesTop"]
        assert bfs.status == dfs.status
