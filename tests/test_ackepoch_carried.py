"""EstablishedLeaderUpToDate compares the leader with what each counted ACKEPOCH carried
(issue 17, deliverable 3; docs/semantics.md §7).

Five voters, quorum three: leader 5 counts 1's ACKEPOCH(0, 0) while it still waits for a
third; 1 gives up, follows leader 4, which establishes epoch 2, and takes currentEpoch 2 from
its NEWLEADER; then 2's ACKEPOCH completes 5's quorum. 5 is not behind anything it counted
(what 1 sent was (0, 0)), but 1's state at that moment is (2, ...): the old check, which read
the members' state at establishment, reported a violation that ZooKeeper's
``Leader.waitForEpochAck`` never sees. Every step after the set-up is a model action.
"""

from __future__ import annotations

from fle_testlib import model, run, srv, with_server

from zkcheck.explorer.trace import Trace
from zkcheck.invariants.fle import fle_properties
from zkcheck.model.state import (
    F_CE,
    F_ZAB,
    F_ZXID,
    FOLLOWING,
    H_ACKED,
    H_SUMMARY,
    L_DISCOVERY,
    L_SYNC,
    LEADING,
    LOOKING,
    P_ROLE,
    Z_CONNECT,
    ZR_LEADER,
    ZR_LEARNER,
    pack_vote,
)


def _roles(m, st, leaders: dict[int, list[int]]) -> tuple:
    """``st`` with each leader running its role (discovery, its own contribution counted)
    and its learners about to connect."""
    for lead, learners in leaders.items():
        vote = pack_vote(LOOKING, lead, 0, 1, 0)
        st = with_server(st, m.index[lead], phase=P_ROLE, state=LEADING, vote=vote,
                         zab=(ZR_LEADER, L_DISCOVERY, 1, 1 << m.index[lead], 0, ()))
        for sid in learners:
            st = with_server(st, m.index[sid], phase=P_ROLE, state=FOLLOWING, vote=vote,
                             zab=(ZR_LEARNER, Z_CONNECT, 0))
    return st


def _old_check(m, state: tuple) -> bool:
    """The check before the fix: the members' (currentEpoch, lastZxid) at establishment."""
    return all(max(((s[F_CE], s[F_ZXID]) for k, s in enumerate(state[0])
                    if h[H_ACKED] >> k & 1 and k != m.index[h[1]]), default=(-1, -1))
               <= h[H_SUMMARY] for h in state[5])


def _give_up_and_move_on(m):
    st = _roles(m, m.initial_states()[0], {5: [1, 2]})
    st = run(m, ["followerinfo 1", "followerinfo 2", "leaderinfo 1", "ackepoch 1",
                 "giveup 1"], st)
    assert srv(m, st, 5)[F_ZAB][5] == ((0, 0, 0),)  # what 1's ACKEPOCH carried
    st = _roles(m, st, {4: [1, 3]})
    return run(m, ["followerinfo 1", "followerinfo 3", "leaderinfo 1", "leaderinfo 3",
                   "ackepoch 1", "ackepoch 3", "newleader 1"], st)


def test_a_member_that_moved_on_is_no_violation():
    m = model(5, timeouts=1)
    prop = {p.name: p for p in fle_properties(m)}["EstablishedLeaderUpToDate"]
    st = _give_up_and_move_on(m)
    assert srv(m, st, 1)[F_CE] == 2 and [h[:2] for h in st[5]] == [(2, 4)]
    st = run(m, ["leaderinfo 2", "ackepoch 2"], st)
    five = [h for h in st[5] if h[1] == 5]
    assert five == [(1, 5, 0b10011, (0, 0), ((1, 0, 0), (2, 0, 0)))]
    assert srv(m, st, 5)[F_ZAB][1] == L_SYNC and srv(m, st, 5)[F_ZAB][5] == ()
    assert not _old_check(m, st)  # the false violation
    assert prop.predicate(st)


def test_a_leader_behind_a_counted_ackepoch_is_caught():
    """Seeded: 1's ACKEPOCH carried (1, 0), newer than 5's (0, 0), and 5 counted it (as if
    ``waitForEpochAck`` skipped its check). Establishment records it and the property fails,
    while the old check, reading 1's later state, would not tell this apart."""
    m = model(5, timeouts=1)
    prop = {p.name: p for p in fle_properties(m)}["EstablishedLeaderUpToDate"]
    st = _give_up_and_move_on(m)
    leader = srv(m, st, 5)[F_ZAB]
    seeded = with_server(st, m.index[5], zab=leader[:5] + (((0, 1, 0),),))
    assert prop.predicate(seeded)  # not yet established
    middle = run(m, ["leaderinfo 2"], seeded)
    after = run(m, ["ackepoch 2"], middle)
    assert [h[4] for h in after[5] if h[1] == 5] == [((1, 1, 0), (2, 0, 0))]
    assert not prop.predicate(after)
    trace = Trace(seeded, (("leaderinfo 2", middle), ("ackepoch 2", after)))
    why = prop.explain(trace)
    assert why["step"] == 2 and why["servers"] == [5, 1] and why["detail"]["ahead"] == [1]
    assert "ACKEPOCH of 1" in why["text"] and "(currentEpoch 1, lastZxid" in why["text"]
