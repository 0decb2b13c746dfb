"""Whole-run behaviour of the FLE model: §8.1, elections, observers, scenarios."""

from __future__ import annotations

import pytest
from fle_testlib import model, run, srv

from zkcheck.explorer import Bounds, explore, replay, replay_labels
from zkcheck.invariants.fle import fle_properties, leadership, two_leading_same_round
from zkcheck.model.config import ServerInit
from zkcheck.model.state import (
    F_CLOCK,
    F_PHASE,
    F_RESULT,
    F_STATE,
    F_ZAB,
    FOLLOWING,
    L_SYNC,
    LEADING,
    OBSERVING,
    P_DOWN,
    P_ROLE,
    ZR_LEADER,
)

# §8.1: 1 adopts 2; 2 decides LEADING with {1, 2} while 3's vote is in flight; 3's vote
# reaches 1, which switches to 3; 3 decides LEADING with {1, 3}; 1 follows 3. No faults.
SECTION_8_1 = [
    "start 1", "start 2", "start 3",
    "transmit 2->1", "deliver 2->1", "process 1", "process 1",  # 1: own vote, then adopts 2
    "transmit 1->2", "process 2", "deliver 1->2", "process 2",  # 2: quorum {1, 2}
    "decide 2",  # 2 LEADING in round 1
    "transmit 3->1", "deliver 3->1",
    "process 1",  # 1's own vote for 2: quorum {1, 2}, finalize wait
    "drain 1",  # 3's vote is better: back to the main loop
    "process 1",  # adopts 3, broadcasts
    "process 1",  # own vote for 3: quorum {1, 3}
    "process 3", "transmit 1->3", "deliver 1->3", "process 3",  # 3: quorum {1, 3}
    "decide 3",  # 3 LEADING in round 1
    "decide 1",  # 1 FOLLOWING 3
]


def test_section_8_1_two_leading_in_one_round_is_reachable_and_not_a_violation():
    m = model()
    trace = replay_labels(m, m.initial_states()[0], SECTION_8_1)
    replay(m, trace)
    final = trace.final
    s1, s2, s3 = (srv(m, final, sid) for sid in (1, 2, 3))
    assert (s2[F_STATE], s2[F_RESULT][2]) == (LEADING, 1)
    assert (s3[F_STATE], s3[F_RESULT][2]) == (LEADING, 1)
    assert (s1[F_STATE], s1[F_RESULT][0]) == (FOLLOWING, 3)
    assert two_leading_same_round(final)
    props = {p.name: p for p in fle_properties(m)}
    for state in trace.states:
        for p in props.values():
            if p.kind.value == "invariant":
                assert p.predicate(state), p.name
    # Zab resolves it: only 3 can establish epoch 1; 2 never gets a follower
    after = run(m, ["publish 1", "publish 2", "publish 3", "followerinfo 1", "leaderinfo 1",
                    "ackepoch 1"], final)
    assert after[5] == ((1, 3, 0b101, (0, 0), (0, 0)),) and leadership(after)
    assert srv(m, after, 2)[F_ZAB][1] < L_SYNC


def test_shortest_election_two_servers():
    m = model(2)
    result = explore(m, search="bfs", bounds=Bounds(), properties=["LeaderEstablished"])
    verdict = result.verdicts["LeaderEstablished"]
    assert verdict.status == "witness found"
    assert len(verdict.trace.steps) == 18
    replay(m, verdict.trace)


@pytest.mark.slow
def test_shortest_election_three_servers_is_18_steps():
    m = model(3)
    result = explore(m, search="bfs", bounds=Bounds(max_depth=18),
                     properties=["LeaderEstablished"])
    verdict = result.verdicts["LeaderEstablished"]
    assert verdict.status == "witness found"
    assert len(verdict.trace.steps) == 18
    result = explore(m, search="bfs", bounds=Bounds(max_depth=17),
                     properties=["LeaderEstablished"])
    assert result.verdicts["LeaderEstablished"].status == "witness not found"


def test_observer_never_counts_toward_a_quorum():
    # 2 voters + 1 observer: the quorum is both voters; an observer vote never completes it
    m = model(3, observers=[3])
    assert m.quorum[0b011] and not m.quorum[0b001] and not m.quorum[0b101]
    assert not m.quorum[0b110] and not m.quorum[0b100]
    result = explore(m, search="bfs", bounds=Bounds(max_depth=40))
    assert result.verdicts["DecisionSupported"].status in ("holds", "holds within bounds")
    seen_observing = False
    for state in _states(m, 40):
        for k, s in enumerate(state[0]):
            z = s[F_ZAB]
            if z is not None and z[0] == ZR_LEADER:
                assert not z[3] >> 2 & 1  # the observer is never in a Zab quorum set
            if s[F_STATE] == OBSERVING and s[F_PHASE] == P_ROLE:
                seen_observing = True
        for h in state[5]:
            assert not h[2] >> 2 & 1
    assert seen_observing


def _states(m, depth):
    init = m.initial_states()[0]
    seen = {init}
    frontier = [init]
    for _ in range(depth):
        nxt = []
        for s in frontier:
            for _, t in m.actions(s):
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    return seen


def test_leader_crash_scenario_initial_state():
    m = model(3, scenario="leader-crash", initial={1: ServerInit(1, 1, (1, 2)),
                                                   2: ServerInit(1, 1, (1, 3)),
                                                   3: ServerInit(0, 0, (0, 0))})
    st = m.initial_states()[0]
    assert srv(m, st, 2)[F_PHASE] == P_DOWN  # leader = greatest (epoch, zxid, sid)
    assert srv(m, st, 1)[F_STATE] == FOLLOWING and srv(m, st, 1)[F_CLOCK] == 1
    assert srv(m, st, 3)[F_STATE] != FOLLOWING  # missed epoch 1: a fresh LOOKING process
    assert st[5] == ((1, 2, 0b011, (1, m.zxid_base + 3), (1, m.zxid_base + 2)),)
    result = explore(m, search="bfs", bounds=Bounds())
    assert result.complete
    for name in ("Leadership", "EpochMonotonic", "DecisionSupported",
                 "EstablishedLeaderUpToDate"):
        assert result.verdicts[name].status == "holds"
    assert result.verdicts["LeaderEstablished"].status == "witness found"


@pytest.mark.parametrize("vector", [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)])
def test_established_leader_is_max_of_its_quorum(vector):
    """Fault-free 3-server startup, every initial zxid vector in {0,1}^3 (zxid (0, z)): at
    every establishment the leader's (currentEpoch, lastZxid) is the maximum over the quorum
    that acked it, checked independently on each establishing transition's pre-state.

    The sid tie-break is not part of the claim: a server with equal (epoch, zxid) and a
    larger sid may join the leader through Step A/B and ack it (legal in ZooKeeper)."""
    init = {sid: ServerInit(0, 0, (0, z)) for sid, z in zip((1, 2, 3), vector, strict=True)}
    m = model(3, initial=init, max_round=1)
    depth = 24
    init_state = m.initial_states()[0]
    seen = {init_state}
    frontier = [init_state]
    establishments = 0
    for _ in range(depth):
        nxt = []
        for s in frontier:
            for _, t in m.actions(s):
                if len(t[5]) > len(s[5]):
                    (rec,) = set(t[5]) - set(s[5])
                    epoch, leader, acked = rec[0], rec[1], rec[2]
                    lk = m.index[leader]
                    lead = (s[0][lk][10], s[0][lk][12])  # (currentEpoch, lastZxid) before
                    for k in range(3):
                        if acked >> k & 1:
                            assert (s[0][k][10], s[0][k][12]) <= lead
                    assert lead[1] == max(z for z in vector if True) or any(
                        not acked >> k & 1 for k in range(3))
                    establishments += 1
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    assert establishments > 0
