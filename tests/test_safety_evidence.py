"""Issue 16: properties that catch seeded bugs by a violation, recomputed from primary
state, and regression tests for checker defects found on the unmodified checker."""

from __future__ import annotations

from fle_testlib import model

from zkcheck.api import build_model
from zkcheck.explorer import Bounds, Search
from zkcheck.explorer.liveness import check_liveness
from zkcheck.model.state import pack_key, unpack_key

DIFFERENT_ZXIDS = {"scenario": "leader-crash", "zxid": ["1=1:5", "2=1:3", "3=1:5"]}


def _verdicts(m, properties, depth=None):
    result = Search(m, properties=properties, bounds=Bounds(max_depth=depth),
                    liveness=check_liveness).run()
    return {name: (v.status, None if v.trace is None else len(v.trace))
            for name, v in result.verdicts.items()}


def _sid_first(m):
    """A seeded wrong vote order: the sid is compared before the zxid (epoch, sid, zxid)."""
    def better(new: int, cur: int) -> bool:
        nl, nz, ne = unpack_key(new)
        cl, cz, ce = unpack_key(cur)
        return (ne, nl, nz) > (ce, cl, cz)
    m.better = better
    return m


def test_established_scenario_runs_without_traceback():
    # 5a: the scenario's running leader published its vote without a recorded result
    m = build_model("fle", servers=3, scenario="established")
    result = Search(m, liveness=check_liveness).run()
    assert result.complete and result.stats.distinct == 1
    assert result.verdicts["TwoLeadingSameRound"].status == "witness not found"


def test_elected_is_most_up_to_date_catches_a_sid_first_vote_order():
    good = build_model("fle", **DIFFERENT_ZXIDS)
    assert _verdicts(good, ["ElectedIsMostUpToDate", "DecisionSupported"]) == {
        "ElectedIsMostUpToDate": ("holds", None), "DecisionSupported": ("holds", None)}
    bad = _sid_first(build_model("fle", **DIFFERENT_ZXIDS))
    assert _verdicts(bad, ["ElectedIsMostUpToDate"]) == {
        "ElectedIsMostUpToDate": ("violated", 9)}


def test_decision_supported_recounts_quorums_without_the_model_tables():
    # a quorum table one vote too small: the recorded evidence agrees with it, the
    # recomputation from the configuration does not
    m = model(3, max_round=1)
    m.quorum = tuple(mask != 0 for mask in range(1 << m.n))
    m.zab_quorum = m.quorum
    assert _verdicts(m, ["DecisionSupported"], depth=4) == {
        "DecisionSupported": ("violated", 2)}


def test_key_helpers_round_trip():
    assert unpack_key(pack_key(3, 7, 2)) == (3, 7, 2)


def test_por_covers_reconnects_and_names_its_reason_when_off():
    # 5d: --reconnects used to turn POR off silently, blaming the properties
    m = model(2, reconnects=1)
    props = ["Leadership", "EpochMonotonic"]
    assert m.por_refusal(props) is None
    reduced = Search(m, properties=props, por=True, check_independence=1).run()
    full = Search(model(2, reconnects=1), properties=props).run()
    assert (reduced.stats.distinct, full.stats.distinct) == (2553, 7638)
    assert reduced.verdicts["Leadership"].status == full.verdicts["Leadership"].status == "holds"
    assert m.por_refusal(["Leadership", "EventuallyElected"]) == (
        "off: EventuallyElected not covered by the model's independence proof")


def test_a_stuck_run_is_not_a_pass_with_fair_timeouts():
    # item 4: the sid-first order keeps electing 2, whose ACKEPOCH check rejects 1
    options = dict(DIFFERENT_ZXIDS, fair_timeouts=True)
    bad = _sid_first(build_model("fle", **options))
    assert _verdicts(bad, ["EventuallyElected", "BoundStall"]) == {
        "EventuallyElected": ("violated", 20), "BoundStall": ("witness found", 20)}
    good = build_model("fle", **options)
    assert _verdicts(good, ["EventuallyElected", "BoundStall"]) == {
        "EventuallyElected": ("holds", None), "BoundStall": ("witness not found", None)}
    # without fair timeouts the same stall is excused (the old behaviour, kept as default)
    old = _sid_first(build_model("fle", **DIFFERENT_ZXIDS))
    assert _verdicts(old, ["EventuallyElected"]) == {"EventuallyElected": ("holds", None)}


def test_initlimit_ends_the_wait_for_a_restarted_followers_ackepoch():
    # 5b: without fair timeouts a 34-step lasso waits forever for ACKEPOCH(-1)
    options = {"servers": 2, "crashes": 1, "restarts": 1}
    assert _verdicts(build_model("fle", **options), ["EventuallyElected"]) == {
        "EventuallyElected": ("violated", 34)}
    fair = build_model("fle", fair_timeouts=True, **options)
    assert _verdicts(fair, ["EventuallyElected", "BoundStall"]) == {
        "EventuallyElected": ("holds", None), "BoundStall": ("witness not found", None)}


def test_liveness_goal_ignores_a_handler_the_leader_forgot_to_drop():
    from zkcheck.invariants.fle_liveness import elected
    from zkcheck.model.faults import down_server
    from zkcheck.model.state import F_ZAB

    m = model(3, scenario="established", crashes=1)
    st = next(s for label, s in m.actions(m.initial_states()[0]) if label == "crash 2")
    assert elected(m, st)  # leader 3 and follower 1 are still a quorum
    leader = st[0][2]
    z = leader[F_ZAB]
    # seeded bookkeeping bug: the leader still lists crashed 2, and 1 is down as well
    forgot = leader[:F_ZAB] + ((z[0], z[1], z[2], z[3], 0b011),) + leader[F_ZAB + 1:]
    stuck = ((down_server(m, st[0][0]), st[0][1], forgot),) + st[1:]
    assert not elected(m, stuck)


def test_observer_reply_ping_pong_is_bounded_by_the_raw_receive_queue():
    # 5c: an observer and a voter in an older round answer each other forever; the
    # observer's recvqueue grew without end (no-POR search never finished) while POR
    # called its 242 states complete. The raw receive queue holds 100 (drop-oldest).
    from zkcheck.model.election import RAW_RECV_CAPACITY, receive
    from zkcheck.model.state import F_QUEUE

    options = {"servers": 3, "observers": 1, "scenario": "leader-crash", "timeouts": 1}
    invariants = ["Leadership", "EpochMonotonic", "DecisionSupported",
                  "EstablishedByQuorum", "ElectedIsMostUpToDate"]
    m = build_model("fle", **options)
    full = Search(m, properties=invariants).run()
    # complete, and as deep as 100 queued replies take (4 steps per round trip)
    assert full.complete and (full.stats.distinct, full.stats.max_depth) == (11478, 414)
    reduced = Search(build_model("fle", **options), properties=invariants, por=True).run()
    assert reduced.complete and reduced.stats.distinct < full.stats.distinct
    assert {n: v.status for n, v in reduced.verdicts.items()} == {
        n: v.status for n, v in full.verdicts.items()} == dict.fromkeys(invariants, "holds")
    # a full queue drops its oldest entry
    s = build_model("fle", servers=3).initial_states()[0][0][0]  # LOOKING
    full_queue = s[:F_QUEUE] + (tuple(range(RAW_RECV_CAPACITY)),) + s[F_QUEUE + 1:]
    after, _ = receive(m, full_queue, 0, 1, 1 << 8)
    assert RAW_RECV_CAPACITY == 100 and len(after[F_QUEUE]) == 100
    assert after[F_QUEUE][0] == 1 and after[F_QUEUE][-1] == (1 << 8) << 6 | 1


def test_leader_crash_counts_servers_that_acked_but_never_synced():
    # 2 acked epoch 2 (acceptedEpoch 2) but never got NEWLEADER (currentEpoch 1): it is a
    # member of the quorum that established 2, and a fresh LOOKING process
    import pytest

    from zkcheck.errors import InputError
    from zkcheck.model.state import F_PHASE, P_IDLE

    m = build_model("fle", servers=3, scenario="leader-crash",
                    epoch=["1=1", "2=1:2", "3=2"])
    servers, hist = m.initial_states()[0][0], m.initial_states()[0][5]
    assert hist == ((2, 3, 0b110, (2, 0), ((2, 1, 0),)),)
    assert servers[1][F_PHASE] == P_IDLE
    with pytest.raises(InputError, match="not a quorum"):
        build_model("fle", servers=3, scenario="leader-crash", epoch=["1=1", "2=1", "3=2"])
