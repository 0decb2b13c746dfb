"""Establishment vs the leader's setCurrentEpoch, and a learner's NEWLEADER vs the leader
counting its ACK: separate steps when a crash can fall in between (issue 17, deliverable 3;
docs/semantics.md §7).

Each test explores a two-server configuration completely, once as the model runs it (split,
since the configuration has a crash budget) and once with the steps merged
(``split_epoch_steps`` off, as in crash-free configurations), and searches breadth-first
for a later election that only the split allows: the shortest trace and its length are
exact, and the merged model never gets there.
"""

from __future__ import annotations

from collections import deque

from fle_testlib import model, run

from zkcheck.model.state import (
    F_CE,
    F_PHASE,
    F_RESULT,
    F_STATE,
    F_ZAB,
    FOLLOWING,
    L_SYNC,
    LEADING,
    P_DECIDED,
    P_ROUND,
    vote_leader,
)


def shortest(m, target) -> tuple[list[str] | None, int]:
    """(labels of a shortest run to a state satisfying ``target`` or None, distinct states
    explored); complete breadth-first search, labels in the model's order."""
    init = m.initial_states()[0]
    parent: dict[tuple, tuple | None] = {init: None}
    queue = deque([init])
    while queue:
        s = queue.popleft()
        if target(s):
            path = []
            while parent[s] is not None:
                s, label = parent[s]
                path.append(label)
            return path[::-1], len(parent)
        for label, t in m.actions(s):
            if t not in parent:
                parent[t] = (s, label)
                queue.append(t)
    return None, len(parent)


def merged(m):
    m.split_epoch_steps = False
    return m


def decides_to_lead(sid: int, after_leader: int):
    """Server ``sid`` decided to lead after ``after_leader`` established an epoch."""
    def target(st: tuple) -> bool:
        s = st[0][sid - 1]
        return (any(h[1] == after_leader for h in st[5]) and s[F_PHASE] == P_DECIDED
                and s[F_STATE] == LEADING and vote_leader(s[F_RESULT]) == sid)
    return target


def test_crash_before_set_current_epoch_elects_the_other_server():
    """2 establishes epoch 1; 1 takes currentEpoch 1 from NEWLEADER; 2 crashes before its
    setCurrentEpoch, restarts with currentEpoch 0 and votes (0, 0, 2) against 1's
    (1, 0, 1): 1 is elected. Had 2 set its epoch, its vote (1, 0, 2) would win."""
    path, explored = shortest(model(2, **CRASH), decides_to_lead(1, 2))
    assert len(path) == 33 and explored == 17_653
    assert path[17:21] == ["ackepoch 1", "newleader 1", "crash 2", "lost 1"]
    assert "setepoch 2" not in path
    never, total = shortest(merged(model(2, **CRASH)), decides_to_lead(1, 2))
    assert never is None and total == 35_596


def test_crash_before_the_newleader_ack_counts_keeps_the_learner_out():
    """1 takes currentEpoch 1 from 2's NEWLEADER and crashes before 2 counts its ACK: 2
    waits in sync with its published vote still (0, 0, 2), and 1, restarted, votes
    (1, 0, 1), which beats it, so 1 cannot follow 2 again (within the explored
    continuation: 2 has no timeout budget to give up). With the ACK counted in the same
    step 2 would serve with peerEpoch 1 and 1 would follow."""
    path, explored = shortest(model(2, **CRASH), rejoining_learner_ahead)
    assert len(path) == 22 and explored == 4_328
    assert path[-5:] == ["ackepoch 1", "newleader 1", "crash 1", "restart 1", "start 1"]
    st = run(model(2, **CRASH), path)
    follows, reachable = shortest(From(model(2, **CRASH), st), follows_again)
    assert follows is None and reachable == 48
    never, total = shortest(merged(model(2, **CRASH)), rejoining_learner_ahead)
    assert never is None and total == 35_596


CRASH = {"crashes": 1, "restarts": 1}


def rejoining_learner_ahead(st: tuple) -> bool:
    """1 is back in an election round with currentEpoch 1 while 2, established for epoch 1,
    still waits in sync."""
    s1, s2 = st[0]
    return (s1[F_PHASE] == P_ROUND and s1[F_CE] == 1 and s2[F_STATE] == LEADING
            and s2[F_ZAB] is not None and s2[F_ZAB][1] == L_SYNC and s2[F_ZAB][2] == 1)


def follows_again(st: tuple) -> bool:
    s1 = st[0][0]
    return s1[F_PHASE] == P_DECIDED and s1[F_STATE] == FOLLOWING


class From:
    """The model's actions from a given state (for a search that starts there)."""

    def __init__(self, m, st: tuple) -> None:
        self.m, self.st = m, st

    def initial_states(self) -> list[tuple]:
        return [self.st]

    def actions(self, st: tuple) -> list:
        return self.m.actions(st)
