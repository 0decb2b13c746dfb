"""Exact distinct-state counts of small complete FLE runs, identical under BFS and DFS.

The numbers were computed with this model and are asserted exactly: a change in any rule,
bound or the state layout that changes the reachable state space shows up here.
"""

from __future__ import annotations

import pytest
from fle_testlib import full_search, model

from zkcheck.explorer import Bounds, explore

CASES = [
    # (servers, configuration, distinct states)
    (2, {}, 434),
    (2, {"max_round": 1}, 229),
    (2, {"timeouts": 1}, 5838),
    (2, {"link_failures": 1}, 3734),
    (2, {"reconnects": 1}, 7638),
    (2, {"late": [2]}, 445),
    (2, {"crashes": 1, "restarts": 1}, 40071),  # 35596 before setepoch/newleader-ack (§7)
    (3, {"scenario": "leader-crash"}, 368),
    (3, {"scenario": "leader-crash", "timeouts": 1}, 2854),
]


@pytest.mark.parametrize(("servers", "config", "distinct"), CASES,
                         ids=[f"{s}-{c}" for s, c, _ in CASES])
def test_complete_run_counts_bfs_equals_dfs(servers, config, distinct):
    # the BFS run is shared with tests/test_parallel.py and tests/test_reductions.py
    for search in ("bfs", "dfs"):
        result = (full_search(servers, config) if search == "bfs" else
                  explore(model(servers, **config), search=search, bounds=Bounds()))
        assert result.complete
        assert result.stats.distinct == distinct, search
        for name in ("Leadership", "EpochMonotonic", "DecisionSupported",
                     "EstablishedLeaderUpToDate", "VoteOrderIsStrict"):
            assert result.verdicts[name].status == "holds", name
        assert result.verdicts["LeaderEstablished"].status == "witness found"


def test_successors_are_deterministic():
    m1, m2 = model(3, timeouts=1, crashes=1), model(3, timeouts=1, crashes=1)
    frontier = [m1.initial_states()[0]]
    for _ in range(6):
        nxt = []
        for s in frontier:
            a1, a2 = m1.actions(s), m2.actions(s)
            assert [lbl for lbl, _ in a1] == [lbl for lbl, _ in a2]
            assert [m1.encode(t) for _, t in a1] == [m2.encode(t) for _, t in a2]
            assert len({lbl for lbl, _ in a1}) == len(a1)  # labels unique per state
            nxt.extend(t for _, t in a1)
        frontier = nxt[:200]
