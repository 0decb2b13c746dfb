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


def test_a_stuck_run_is_not_a_pass():
    # item 4: the sid-first order keeps electing 2, whose ACKEPOCH check rejects 1; with
    # timeouts fair for liveness (the default) nothing excuses the stall at max-round
    bad = _sid_first(build_model("fle", **DIFFERENT_ZXIDS))
    _sid_first(bad.liveness_companion(["EventuallyElected"])[0])
    result = Search(bad, liveness=check_liveness).run()
    got = {n: (v.status, None if v.trace is None else len(v.trace))
           for n, v in result.verdicts.items() if v.kind == "liveness" or n == "BoundStall"}
    assert result.stats.distinct == 366  # the safety space: the companion is separate
    assert got == {"EventuallyElected": ("violated", 20), "JoinerEventuallyJoins": ("violated", 20),
                   "BoundStall": ("witness found", 11)}
    assert result.verdicts["EventuallyElected"].note == (
        "a deadlocked state never reaches the goal; judged on the liveness companion: 524 "
        "states, BoundStall witness found at depth 20")
    # 2 is elected over the more up-to-date 1, whose ACKEPOCH then shows it is ahead
    labels = [label for label, _ in result.verdicts["EventuallyElected"].trace.steps]
    assert labels[-5:] == ["decide 2", "publish 2", "followerinfo 1", "leaderinfo 1",
                           "ackepoch 1"]
    good = build_model("fle", **DIFFERENT_ZXIDS)
    assert _verdicts(good, ["EventuallyElected", "BoundStall"]) == {
        "EventuallyElected": ("holds", None), "BoundStall": ("witness found", 11)}
    # the opt-out: timeouts optional for liveness too, and the same stall is excused
    old = _sid_first(build_model("fle", optional_timeouts=True, **DIFFERENT_ZXIDS))
    assert old.liveness_companion(["EventuallyElected"]) is None
    assert _verdicts(old, ["EventuallyElected"]) == {"EventuallyElected": ("holds", None)}
    # --fair-timeouts: the whole run, safety included, on the fair space
    fair = _sid_first(build_model("fle", fair_timeouts=True, **DIFFERENT_ZXIDS))
    assert _verdicts(fair, ["EventuallyElected", "BoundStall"]) == {
        "EventuallyElected": ("violated", 20), "BoundStall": ("witness found", 20)}


def test_initlimit_ends_the_wait_for_a_restarted_followers_ackepoch():
    # 5b: with timeouts optional a 34-step run waits forever for ACKEPOCH(-1); by default
    # liveness is judged with initLimit fair, and the safety space is unchanged
    options = {"servers": 2, "crashes": 1, "restarts": 1}
    default = Search(build_model("fle", **options), liveness=check_liveness).run()
    assert default.stats.distinct == 40071
    assert {n: v.status for n, v in default.verdicts.items() if v.kind == "liveness"} == {
        "EventuallyElected": "holds", "JoinerEventuallyJoins": "holds"}
    assert default.verdicts["EventuallyElected"].note.endswith(
        "judged on the liveness companion: 29,842 states, BoundStall witness not found")
    assert default.ok
    old = build_model("fle", optional_timeouts=True, **options)
    assert _verdicts(old, ["EventuallyElected"]) == {"EventuallyElected": ("violated", 34)}


def test_liveness_assumes_a_quorum_of_voters_up():
    # a leader-crashed pair with an observer: one voter is left, no leader can ever be
    # elected, and runs that stay that way are not judged (not a violation)
    from zkcheck.invariants.fle_liveness import quorum_can_be_up

    m = build_model("fle", servers=3, observers=1, scenario="leader-crash", timeouts=1)
    assert not quorum_can_be_up(m, m.initial_states()[0])
    assert quorum_can_be_up(build_model("fle", scenario="leader-crash"),
                            build_model("fle", scenario="leader-crash").initial_states()[0])


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


R6_1343 = ["--scenario", "leader-crash", "--epoch", "1=1:2", "--epoch", "2=1",
           "--epoch", "3=1:2", "--variant", "epoch_bump_strict", "--no-progress"]


def test_cli_liveness_companion_traces_replay(capsys, tmp_path):
    # a companion verdict's trace file records fair_timeouts, so replay re-runs its expire
    import json

    from zkcheck.cli import main

    code = main(["explore", *R6_1343, "--property", "EventuallyElected", "--out",
                 str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1 and "violated at depth 20" in out
    assert "judged on the liveness companion: 582 states" in out
    # this run keeps no graph of its own, so partial-order reduction is on (692 without)
    assert "statistics: 281 distinct states" in out
    trace_file = tmp_path / "EventuallyElected" / "trace.json"
    document = json.loads(trace_file.read_text())
    assert document["#meta"]["zkcheck"]["options"]["fair_timeouts"] is True
    actions = [s["#meta"]["action"] for s in document["states"]]
    assert "expire 1,2" in actions
    assert main(["replay", str(trace_file)]) == 0
    assert "replays (20 steps" in capsys.readouterr().out
    # --optional-timeouts: the old judgement on the budgeted graph, a deadlock at 19
    code = main(["explore", *R6_1343, "--property", "EventuallyElected",
                 "--optional-timeouts"])
    out = capsys.readouterr().out
    assert code == 1 and "violated at depth 19" in out and "companion" not in out
