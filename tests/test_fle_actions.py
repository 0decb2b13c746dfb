"""One test (or a few) per action of the FLE model: guard and effect on hand-built states.

Messages are (state, leader, zxid, round, peerEpoch); recvqueue entries prefix the sender's
index; servers 1, 2, 3 have indices 0, 1, 2.
"""

from __future__ import annotations

from fle_testlib import chan, labels, model, run, srv, step, with_server

from zkcheck.model.config import ServerInit
from zkcheck.model.state import (
    B_TIMEOUT,
    D_STEP_A,
    D_STEP_B,
    F_AE,
    F_CE,
    F_CLOCK,
    F_DEC,
    F_OOE,
    F_PHASE,
    F_PROP,
    F_QUEUE,
    F_RECV,
    F_RESULT,
    F_STATE,
    F_VOTE,
    F_ZAB,
    F_ZXID,
    FOLLOWING,
    L_BROADCAST,
    L_DISCOVERY,
    L_EPOCH,
    L_SYNC,
    LEADING,
    LOOKING,
    OBSERVING,
    P_DECIDED,
    P_DOWN,
    P_FINAL,
    P_IDLE,
    P_ROLE,
    P_ROUND,
    Z_ACKED,
    Z_ACKEPOCH,
    Z_ACKSENT,
    Z_CONNECT,
    Z_INFO,
    Z_SERVING,
    Z_SYNC,
    ZR_LEADER,
    ZR_LEARNER,
    pack_key,
    pack_vote,
    pair_bit,
    queue_entry,
)
from zkcheck.model.variants import Variant


def W(state, leader, zxid, rnd, pe):  # noqa: N802 - a vote word, read like a tuple
    return pack_vote(state, leader, zxid, rnd, pe)


def Q(sender, state, leader, zxid, rnd, pe):  # noqa: N802 - a recvqueue entry
    return queue_entry(sender, pack_vote(state, leader, zxid, rnd, pe))


def K(leader, zxid, pe):  # noqa: N802 - a proposal key
    return pack_key(leader, zxid, pe)


V1 = W(LOOKING, 1, 0, 1, 0)  # server 1's round-1 vote for itself
V2 = W(LOOKING, 2, 0, 1, 0)
V3 = W(LOOKING, 3, 0, 1, 0)

# the shortest fault-free election of 3 servers: 3 leads, 1 follows (18 steps)
ELECTION = [
    "start 1", "start 3", "transmit 3->1", "deliver 3->1", "process 1", "process 1",
    "transmit 1->3", "deliver 1->3", "process 3", "process 3", "decide 3", "publish 3",
    "process 1", "decide 1", "publish 1", "followerinfo 1", "leaderinfo 1", "ackepoch 1",
]


# ------------------------------------------------------------------ StartRound


def test_start_round_guard_and_effect():
    m = model()
    st = m.initial_states()[0]
    assert labels(m, st) == ["start 1", "start 2", "start 3"]
    st = step(m, st, "start 1")
    s1 = srv(m, st, 1)
    assert (s1[F_PHASE], s1[F_CLOCK], s1[F_PROP]) == (P_ROUND, 1, K(1, 0, 0))
    assert s1[F_QUEUE] == (queue_entry(0, V1),)  # loopback
    assert chan(m, st, 1, 2) == (V1, (), None) and chan(m, st, 1, 3) == (V1, (), None)
    capped = with_server(m.initial_states()[0], 0, clock=m.max_round)
    assert "start 1" not in labels(m, capped)


def test_start_round_uses_persistent_state_and_keeps_recvqueue():
    m = model(initial={2: ServerInit(3, 4, (3, 7))})
    st = m.initial_states()[0]
    pending = (queue_entry(0, V1),)
    st = with_server(st, 1, queue=pending)
    st = step(m, st, "start 2")
    s2 = srv(m, st, 2)
    assert s2[F_PROP] == K(2, 3 * m.zxid_base + 7, 3)
    assert s2[F_QUEUE][0] == pending[0]


# ------------------------------------------------------------------ network


def test_transmit_guard_and_effect():
    m = model()
    st = run(m, ["start 1"])
    assert "transmit 1->2" in labels(m, st) and "transmit 2->1" not in labels(m, st)
    st = step(m, st, "transmit 1->2")
    assert chan(m, st, 1, 2) == (None, (V1,), V1)
    full = list(st[1])
    full[0 * 3 + 1] = (V2, (V1,), V1)
    st_full = (st[0], tuple(full)) + st[2:]
    assert "transmit 1->2" not in labels(m, st_full)  # wire capacity 1 reached
    m2 = model(wire_capacity=2)
    assert "transmit 1->2" in labels(m2, st_full)
    down = st[:2] + (0,) + st[3:]
    assert not [lbl for lbl in labels(m, down) if lbl.startswith("transmit")]


def test_deliver_queues_at_looking_receiver():
    m = model()
    st = run(m, ["start 1", "transmit 1->2", "deliver 1->2"])
    assert srv(m, st, 2)[F_QUEUE] == (queue_entry(0, V1),)
    assert chan(m, st, 1, 2) == (None, (), V1)
    assert chan(m, st, 2, 1)[0] is None  # no reply: sender is not behind


def test_deliver_replies_to_laggard_and_from_non_looking():
    m = model()
    st = run(m, ["start 1", "transmit 1->2"])
    st2 = with_server(st, 1, phase=P_ROUND, clock=2, prop=K(3, 0, 0))
    after = step(m, st2, "deliver 1->2")
    assert chan(m, after, 2, 1)[0] == W(LOOKING, 3, 0, 2, 0)  # proposal + logicalclock
    st3 = with_server(st, 1, phase=P_ROLE, state=FOLLOWING, vote=W(LOOKING, 3, 0, 1, 0),
                      clock=4,
                      zab=(ZR_LEARNER, Z_SERVING, 0))
    after = step(m, st3, "deliver 1->2")
    assert chan(m, after, 2, 1)[0] == W(FOLLOWING, 3, 0, 1, 0)  # vote's round, not clock
    assert srv(m, after, 2)[F_QUEUE] == ()
    m_old = model(variant=Variant(reply_round_logicalclock=True))
    after = step(m_old, st3, "deliver 1->2")
    assert chan(m_old, after, 2, 1)[0] == W(FOLLOWING, 3, 0, 4, 0)


def test_observer_sender_gets_direct_answer_and_is_not_queued():
    m = model(3, observers=[3])
    st = run(m, ["start 3"])
    # observers broadcast to voters only and never to themselves
    assert srv(m, st, 3)[F_QUEUE] == ()
    assert chan(m, st, 3, 1)[0] == W(LOOKING, -1, -1, 1, -1)
    st = run(m, ["transmit 3->1", "deliver 3->1"], st)
    assert srv(m, st, 1)[F_QUEUE] == ()
    # rule 5.1.3: (currentVote.id, currentVote.zxid, logicalclock, state, peerEpoch)
    assert chan(m, st, 1, 3)[0] == W(LOOKING, 1, 0, 0, 0)


def test_connect_rule_larger_sid_initiates():
    m = model()
    st = run(m, ["start 1"])
    st = st[:2] + (0,) + st[3:]  # every connection down
    assert "connect 3-1" in labels(m, st)  # 1's attempt, 3 connects back
    assert not [lbl for lbl in labels(m, st) if lbl.startswith("connect 1-")]
    m_bug = model(variant=Variant(connect_back_fails=True))
    assert "connect 3-1" not in labels(m_bug, st)  # 1 cannot open a channel to 3 itself
    st3 = run(m_bug, ["start 3"], st)
    assert "connect 3-1" in labels(m_bug, st3)  # 3 sends, so 3 connects
    after = step(m_bug, st3, "connect 3-1")
    assert after[2] & pair_bit(0, 2, 3)


def test_connect_resends_last_when_queue_empty():
    m = model(link_failures=1)
    st = run(m, ["start 1", "transmit 1->3", "linkdown 3-1"])
    assert chan(m, st, 1, 3) == (None, (), V1)  # in-flight message lost, last kept
    assert st[3][2] == 0
    st = run(m, ["start 3"], st)
    st = step(m, st, "connect 3-1")
    assert chan(m, st, 1, 3) == (None, (V1,), V1)  # 1 re-sends its last message
    assert chan(m, st, 3, 1) == (V3, (), None)


def test_link_down_keeps_outboxes_and_needs_budget():
    m = model()
    st = run(m, ["start 1", "transmit 1->2"])
    assert not [lbl for lbl in labels(m, st) if lbl.startswith("linkdown")]
    m1 = model(link_failures=1)
    st = run(m1, ["start 1", "transmit 1->2", "start 2", "linkdown 2-1"])
    assert chan(m1, st, 1, 2) == (None, (), V1)
    assert chan(m1, st, 2, 1) == (V2, (), None)
    assert not st[2] & pair_bit(0, 1, 3)


# ------------------------------------------------------------------ Process


def test_process_own_vote_records_without_quorum():
    m = model()
    st = run(m, ["start 1", "process 1"])
    s1 = srv(m, st, 1)
    assert s1[F_RECV][0] == W(LOOKING, 1, 0, 1, 0)
    assert s1[F_PHASE] == P_ROUND and s1[F_QUEUE] == ()
    assert "process 1" not in labels(m, st)


def test_process_same_round_better_vote_adopts_and_broadcasts():
    m = model()
    st = run(m, ["start 1", "start 2", "transmit 2->1", "deliver 2->1", "process 1",
                 "process 1"])
    s1 = srv(m, st, 1)
    assert s1[F_PROP] == K(2, 0, 0)
    assert s1[F_RECV][1] == W(LOOKING, 2, 0, 1, 0)
    assert chan(m, st, 1, 2)[0] == V2 and chan(m, st, 1, 3)[0] == V2
    assert s1[F_QUEUE] == (queue_entry(0, V2),)


def test_process_higher_round_compares_with_initial_vote():
    m = model()
    st = run(m, ["start 1"])
    # proposal currently 3; a round-2 vote for 2 arrives: adopted (better than initial 1)
    st = with_server(st, 0, prop=K(3, 0, 0), queue=(Q(1, LOOKING, 2, 0, 2, 0),),
                     recv=(W(LOOKING, 1, 0, 1, 0), None, None))
    after = step(m, st, "process 1")
    s1 = srv(m, after, 1)
    assert (s1[F_CLOCK], s1[F_PROP]) == (2, K(2, 0, 0))
    assert s1[F_RECV] == (None, W(LOOKING, 2, 0, 2, 0), None)
    assert chan(m, after, 1, 3)[0] == W(LOOKING, 2, 0, 2, 0)


def test_process_lower_round_is_dropped():
    m = model()
    st = run(m, ["start 1"])
    st = with_server(st, 0, clock=2, queue=(Q(1, LOOKING, 3, 0, 1, 0),))
    after = step(m, st, "process 1")
    s1 = srv(m, after, 1)
    assert s1[F_RECV] == srv(m, st, 1)[F_RECV] and s1[F_PROP] == K(1, 0, 0)
    assert s1[F_QUEUE] == ()


def test_process_quorum_starts_finalize_wait():
    m = model()
    st = run(m, ["start 1", "start 2", "transmit 2->1", "deliver 2->1", "process 1",
                 "process 1", "process 2", "transmit 1->2", "deliver 1->2", "process 2"])
    assert srv(m, st, 2)[F_PHASE] == P_FINAL


def test_process_step_a_same_round_needs_quorum_and_leader_confirmation():
    m = model()
    st = run(m, ["start 1"])
    queue = (Q(1, FOLLOWING, 3, 0, 1, 0), Q(2, LEADING, 3, 0, 1, 0))
    st = with_server(st, 0, queue=queue)
    st = step(m, st, "process 1")
    assert srv(m, st, 1)[F_PHASE] == P_ROUND  # one FOLLOWING vote: no quorum
    st = step(m, st, "process 1")
    s1 = srv(m, st, 1)
    assert (s1[F_STATE], s1[F_PHASE]) == (FOLLOWING, P_DECIDED)
    assert s1[F_RESULT] == W(LOOKING, 3, 0, 1, 0)
    assert s1[F_DEC] == (D_STEP_A, 0b110, 1)
    assert s1[F_QUEUE] == () and s1[F_RECV] == (None, None, None)


def test_process_step_a_without_leaders_own_message_does_not_decide():
    m = model()
    st = run(m, ["start 1"])
    st = with_server(st, 0, queue=(Q(1, FOLLOWING, 3, 0, 1, 0), Q(2, FOLLOWING, 3, 0, 1, 0)))
    st = run(m, ["process 1", "process 1"], st)
    assert srv(m, st, 1)[F_STATE] == LOOKING


def test_process_step_b_other_round_lowers_clock():
    m = model(max_round=3)
    st = run(m, ["start 1"])
    queue = (Q(1, FOLLOWING, 3, 0, 1, 2), Q(2, LEADING, 3, 0, 1, 2))
    st = with_server(st, 0, clock=3, queue=queue)
    st = run(m, ["process 1", "process 1"], st)
    s1 = srv(m, st, 1)
    assert (s1[F_STATE], s1[F_CLOCK], s1[F_DEC]) == (FOLLOWING, 1, (D_STEP_B, 0b110, 3))
    assert s1[F_OOE] == (None, None, None)


def test_process_step_b_self_needs_current_round_zookeeper_1514():
    queue = (Q(0, FOLLOWING, 3, 0, 1, 0), Q(1, FOLLOWING, 3, 0, 1, 0))
    for variant, expected in ((Variant(), LOOKING),
                              (Variant(checkleader_self_any_round=True), LEADING)):
        m = model(variant=variant)
        st = run(m, ["start 3"])
        st = with_server(st, 2, clock=2, queue=(Q(2, LOOKING, 3, 0, 2, 0),) + queue)
        st = run(m, ["process 3", "process 3", "process 3"], st)
        assert srv(m, st, 3)[F_STATE] == expected
        from zkcheck.invariants.fle import fle_properties

        supported = {p.name: p for p in fle_properties(m)}["DecisionSupported"]
        assert supported.predicate(st) == (expected == LOOKING)


def test_process_drops_observing_and_non_voter_leader():
    m = model(3, observers=[3])
    st = run(m, ["start 1"])
    st = with_server(st, 0, queue=(Q(1, OBSERVING, 2, 0, 1, 0), Q(1, LOOKING, 3, 0, 1, 0)))
    st = run(m, ["process 1", "process 1"], st)
    s1 = srv(m, st, 1)
    assert s1[F_RECV] == (None, None, None) and s1[F_PROP] == K(1, 0, 0)


# ------------------------------------------------------------------ finalize


def _finalizing(m):
    return run(m, ["start 1", "start 2", "transmit 2->1", "deliver 2->1", "process 1",
                   "process 1", "process 2", "transmit 1->2", "deliver 1->2", "process 2"])


def test_finalize_drain_discards_worse_and_requeues_better():
    m = model()
    st = _finalizing(m)
    worse = with_server(st, 1, queue=(queue_entry(0, V1), queue_entry(0, V2)))
    after = step(m, worse, "drain 2")
    assert srv(m, after, 2)[F_QUEUE] == (queue_entry(0, V2),)
    assert srv(m, after, 2)[F_PHASE] == P_FINAL
    assert "decide 2" not in labels(m, worse)
    better = with_server(st, 1, queue=(queue_entry(2, V3), queue_entry(0, V1)))
    after = step(m, better, "drain 2")
    s2 = srv(m, after, 2)
    assert s2[F_QUEUE] == (queue_entry(0, V1), queue_entry(2, V3)) and s2[F_PHASE] == P_ROUND


def test_finalize_decide_when_queue_empty():
    m = model()
    st = step(m, _finalizing(m), "decide 2")
    s2 = srv(m, st, 2)
    assert (s2[F_STATE], s2[F_PHASE]) == (LEADING, P_DECIDED)
    assert s2[F_RESULT] == W(LOOKING, 2, 0, 1, 0)
    assert s2[F_VOTE] == W(LOOKING, 2, 0, -1, 0)  # not yet published (§5.5)
    m_old = model(variant=Variant(result_round_minus_one=True))
    st = step(m_old, _finalizing(m_old), "decide 2")
    assert srv(m_old, st, 2)[F_RESULT] == W(LOOKING, 2, 0, -1, 0)


# ------------------------------------------------------------------ Timeout


def test_timeout_rebroadcasts_only_with_budget_and_an_empty_queue():
    m = model(timeouts=1)
    st = run(m, ["start 1", "process 1"])
    assert "timeout 1" not in labels(m, st)  # haveDelivered(): every queue still full
    st = step(m, st, "transmit 1->2")
    assert "timeout 1" in labels(m, st)
    after = step(m, st, "timeout 1")
    assert chan(m, after, 1, 2)[0] == V1 and srv(m, after, 1)[F_QUEUE] == (queue_entry(0, V1),)
    assert after[3][B_TIMEOUT] == 0
    assert "timeout 1" not in labels(m, run(m, ["process 1"], after))
    no_budget = st[:3] + ((0, 0, 0, 0, 0),) + st[4:]
    assert "timeout 1" not in labels(m, no_budget)


# ------------------------------------------------------------------ publish and Zab


def test_publish_starts_leader_and_learner():
    m = model()
    st = run(m, ELECTION[:11])
    assert srv(m, st, 3)[F_PHASE] == P_DECIDED
    st = step(m, st, "publish 3")
    s3 = srv(m, st, 3)
    assert s3[F_VOTE] == W(LOOKING, 3, 0, 1, 0) and s3[F_PHASE] == P_ROLE
    assert s3[F_ZAB] == (ZR_LEADER, L_DISCOVERY, 1, 0b100, 0, ())
    st = run(m, ["process 1", "decide 1", "publish 1"], st)
    assert srv(m, st, 1)[F_ZAB] == (ZR_LEARNER, Z_CONNECT, 0)


def test_zab_discovery_to_establishment():
    m = model()
    st = run(m, ELECTION[:15])
    assert "leaderinfo 1" not in labels(m, st)
    st = step(m, st, "followerinfo 1")
    assert srv(m, st, 3)[F_ZAB] == (ZR_LEADER, L_EPOCH, 1, 0b100, 0b001, ())
    assert srv(m, st, 3)[F_AE] == 1 and srv(m, st, 3)[F_CE] == 0
    st = step(m, st, "leaderinfo 1")
    assert srv(m, st, 1)[F_AE] == 1 and srv(m, st, 1)[F_ZAB] == (ZR_LEARNER, Z_ACKEPOCH, 0)
    st = step(m, st, "ackepoch 1")
    assert srv(m, st, 3)[F_CE] == 1
    assert srv(m, st, 3)[F_ZAB] == (ZR_LEADER, L_SYNC, 1, 0b100, 0b001, ())
    assert st[5] == ((1, 3, 0b101, (0, 0), ((1, 0, 0),)),)
    st = step(m, st, "newleader 1")
    assert srv(m, st, 1)[F_CE] == 1 and srv(m, st, 1)[F_ZAB][1] == Z_ACKED
    assert srv(m, st, 3)[F_ZAB][1] == L_BROADCAST
    assert srv(m, st, 3)[F_VOTE] == W(LOOKING, 3, 0, 1, 1)  # updateElectionVote
    st = step(m, st, "uptodate 1")
    assert srv(m, st, 1)[F_VOTE] == W(LOOKING, 3, 0, 1, 1)
    assert srv(m, st, 1)[F_ZAB][1] == Z_SERVING


def test_epoch_decision_needs_a_quorum_with_the_leader():
    m = model(5)
    st = m.initial_states()[0]
    lead = with_server(st, 4, phase=P_ROLE, state=LEADING, vote=W(LOOKING, 5, 0, 1, 0),
                       zab=(ZR_LEADER, L_DISCOVERY, 1, 0b10000, 0, ()))
    for k in (0, 1):
        lead = with_server(lead, k, phase=P_ROLE, state=FOLLOWING,
                           vote=W(LOOKING, 5, 0, 1, 0), zab=(ZR_LEARNER, Z_CONNECT, 0),
                           ae=3 if k == 0 else 0, hwm=(0, 3 if k == 0 else 0))
    st = step(m, lead, "followerinfo 1")
    assert srv(m, st, 5)[F_ZAB] == (ZR_LEADER, L_DISCOVERY, 4, 0b10001, 0b00001, ())
    assert "leaderinfo 1" not in labels(m, st)
    st = step(m, st, "followerinfo 2")
    assert srv(m, st, 5)[F_ZAB][:3] == (ZR_LEADER, L_EPOCH, 4) and srv(m, st, 5)[F_AE] == 4


def test_leaderinfo_answers_minus_one_or_rejects():
    m = model()
    st = run(m, ELECTION[:16])
    same = with_server(st, 0, ae=1, hwm=(0, 1))
    after = step(m, same, "leaderinfo 1")
    assert srv(m, after, 1)[F_ZAB] == (ZR_LEARNER, Z_ACKEPOCH, 1)
    after = step(m, after, "ackepoch 1")  # not counted: no establishment
    assert srv(m, after, 3)[F_ZAB][1] == L_EPOCH and after[5] == ()
    higher = with_server(st, 0, ae=2, hwm=(0, 2))
    after = step(m, higher, "leaderinfo 1")
    assert srv(m, after, 1)[F_STATE] == LOOKING and srv(m, after, 1)[F_PHASE] == P_IDLE
    assert srv(m, after, 3)[F_ZAB][4] == 0  # handler gone


def test_ackepoch_from_more_recent_follower_fails_that_handler():
    m = model()
    st = run(m, ELECTION[:17])
    ahead = with_server(st, 0, zxid=5)
    after = step(m, ahead, "ackepoch 1")
    assert srv(m, after, 1)[F_STATE] == LOOKING
    assert srv(m, after, 3)[F_STATE] == LEADING and srv(m, after, 3)[F_ZAB][1] == L_EPOCH
    assert after[5] == ()


def test_learner_lost_when_leader_crashes_and_lost_quorum():
    m = model(crashes=1)
    synced = ["setepoch 3", "newleader 1", "newleader-ack 1", "uptodate 1"]  # split: crashes
    st = run(m, ELECTION + synced + ["crash 3"])
    assert srv(m, st, 3)[F_PHASE] == P_DOWN and srv(m, st, 3)[F_CE] == 1
    assert labels(m, st)[0] == "lost 1" and "start 2" in labels(m, st)
    after = step(m, st, "lost 1")
    assert srv(m, after, 1)[F_STATE] == LOOKING
    assert srv(m, after, 1)[F_VOTE] == W(LOOKING, 3, 0, 1, 1)
    st = run(m, ELECTION + synced + ["crash 1"])
    assert srv(m, st, 3)[F_ZAB][4] == 0
    after = step(m, st, "lost-quorum 3")
    assert srv(m, after, 3)[F_STATE] == LOOKING and srv(m, after, 3)[F_ZAB] is None


def test_giveup_needs_budget_and_drops_handler():
    st_labels = ELECTION[:16]
    m = model()
    assert "giveup 1" not in labels(m, run(m, st_labels))
    m = model(timeouts=1)
    st = run(m, st_labels)
    after = step(m, st, "giveup 1")
    assert srv(m, after, 1)[F_STATE] == LOOKING and srv(m, after, 3)[F_ZAB][4] == 0
    after = step(m, st, "giveup 3")
    assert srv(m, after, 3)[F_STATE] == LOOKING
    assert "lost 1" in labels(m, after)


def test_client_write_and_learner_log():
    m = model(client_writes=1)
    st = run(m, ELECTION + ["newleader 1", "uptodate 1"])
    st = step(m, st, "write 3")
    assert srv(m, st, 3)[F_ZXID] == 1 * m.zxid_base + 1 and st[3][4] == 0
    st = step(m, st, "log 1")
    assert srv(m, st, 1)[F_ZXID] == srv(m, st, 3)[F_ZXID]
    assert "log 1" not in labels(m, st)


# ------------------------------------------------------------------ faults


def test_crash_and_restart():
    m = model(crashes=1, restarts=1)
    st = run(m, ["start 1", "start 2", "transmit 2->1", "crash 1"])
    s1 = srv(m, st, 1)
    assert s1[F_PHASE] == P_DOWN and s1[F_QUEUE] == ()
    assert chan(m, st, 2, 1) == (None, (), V2)  # in flight to 1: lost; last kept
    assert chan(m, st, 1, 2) == (None, (), None)  # 1's own queues and last: gone
    assert not st[2] & (pair_bit(0, 1, 3) | pair_bit(0, 2, 3))
    assert not [lbl for lbl in labels(m, st) if lbl.startswith("crash")]
    st = step(m, st, "restart 1")
    s1 = srv(m, st, 1)
    assert (s1[F_PHASE], s1[F_CLOCK], s1[F_VOTE]) == (P_IDLE, 0, W(LOOKING, 1, 0, -1, 0))
    st = run(m, ["start 1", "connect 2-1"], st)
    assert chan(m, st, 2, 1) == (None, (V2,), V2)  # stale re-send after restart


def test_late_starter_boots_once():
    m = model(late=[3])
    st = m.initial_states()[0]
    assert srv(m, st, 3)[F_PHASE] == P_DOWN and "boot 3" in labels(m, st)
    st = step(m, st, "boot 3")
    assert srv(m, st, 3)[F_PHASE] == P_IDLE and st[4] == 0
    assert "boot 3" not in labels(m, st)
    assert not st[2] & pair_bit(0, 2, 3)  # needs a connect first


def test_zab_states_unused_constants_are_consistent():
    assert (Z_CONNECT, Z_INFO, Z_ACKEPOCH, Z_SYNC, Z_ACKSENT, Z_ACKED, Z_SERVING) == tuple(
        range(7))
    assert (L_DISCOVERY, L_EPOCH, L_SYNC, L_BROADCAST) == (1, 2, 3, 4)
    assert OBSERVING == 3
