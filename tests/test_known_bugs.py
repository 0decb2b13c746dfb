"""Known-bug mutants: every pre-fix rule (variant flag) and every release preset must keep
producing its bug, and the fixed rules must keep not producing it, on fast configurations.

If one of these fails, zkcheck has silently lost the power to find a historic ZooKeeper
bug (or the fixed model has gained one). Configurations are those of ``specs/`` (see
docs/bugs-and-specs.md); verdicts and shortest trace lengths are asserted exactly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import pytest

from zkcheck.explorer import Bounds, Search
from zkcheck.explorer.liveness import check_liveness
from zkcheck.fle_options import build_fle_model
from zkcheck.model.config import ZXID_COUNTER_LIMIT
from zkcheck.model.fle import FLEModel
from zkcheck.model.state import (
    F_CE,
    F_PHASE,
    F_RESULT,
    F_VOTE,
    F_ZAB,
    F_ZXID,
    L_EPOCH,
    P_DOWN,
    P_IDLE,
    P_ROLE,
    Z_SERVING,
    ZR_LEARNER,
    vote_epoch,
    vote_round,
)
from zkcheck.model.variants import PRESETS, Variant

R1 = {"servers": 2, "epoch": ["1=2", "2=1"], "zxid": ["1=1:5", "2=1:5"], "max_round": 1,
      "recv_capacity": 1}
R2 = {"late": [3], "max_round": 1}
R3 = {"scenario": "established", "timeouts": 1}
R4 = {"scenario": "established", "late": [1], "rounds": ["3=2"], "free_timeouts": True}
R5 = {"scenario": "established", "late": [1]}
R6 = {"scenario": "leader-crash", "epoch": ["1=1:2", "2=1", "3=1:2"]}


def verdicts(options: dict[str, Any], properties: list[str], depth: int | None = None,
             **variant: Any) -> dict[str, tuple[str, int | None]]:
    """(status, trace length) per property of one exhaustive (or depth-bounded) BFS."""
    model = build_fle_model(**options, **variant)
    result = Search(model, properties=properties, bounds=Bounds(max_depth=depth),
                    liveness=check_liveness).run()
    return {name: (v.status, None if v.trace is None else len(v.trace))
            for name, v in result.verdicts.items()}


def reachable(model: FLEModel, found: Callable[[tuple], bool], limit: int = 200_000) -> bool:
    """Plain BFS: does some reachable state satisfy ``found``? (for rules whose effect is a
    state shape rather than a property violation)"""
    seen = {model.encode(s) for s in model.initial_states()}
    queue = deque(model.initial_states())
    while queue:
        state = queue.popleft()
        if found(state):
            return True
        for _, succ in model.actions(state):
            key = model.encode(succ)
            if key not in seen:
                assert len(seen) < limit, "configuration too large for a mutant test"
                seen.add(key)
                queue.append(succ)
    return False


# ------------------------------------------------------------------ one flag, one bug

def test_1419_vote_cycle_is_a_fair_lasso() -> None:
    props = ["EventuallyElected", "VoteOrderIsStrict"]
    bug = verdicts(R1, props, variant_flags=["vote_order_1419"])
    assert bug == {"EventuallyElected": ("violated", 30), "VoteOrderIsStrict": ("violated", 0)}
    assert verdicts(R1, props) == {"EventuallyElected": ("holds", None),
                                   "VoteOrderIsStrict": ("holds", None)}


def test_975_exit_when_all_heard() -> None:
    bug = verdicts(R2, ["DecisionSupported"], depth=12, variant_flags=["exit_when_all_heard"])
    assert bug == {"DecisionSupported": ("violated", 12)}
    assert verdicts(R2, ["DecisionSupported"], depth=12) == {
        "DecisionSupported": ("holds within bounds", None)}


def test_975_follow_leading_same_round() -> None:
    """A same-round LEADING answer alone makes the late joiner follow: no quorum."""
    bug = verdicts(R5, ["DecisionSupported"], variant_flags=["follow_leading_same_round"])
    assert bug["DecisionSupported"][0] == "violated"
    assert verdicts(R5, ["DecisionSupported"]) == {"DecisionSupported": ("holds", None)}


def test_1514_checkleader_self_any_round() -> None:
    bug = verdicts(R3, ["DecisionSupported"], depth=13,
                   variant_flags=["checkleader_self_any_round"])
    assert bug == {"DecisionSupported": ("violated", 13)}
    assert verdicts(R3, ["DecisionSupported"], depth=13) == {
        "DecisionSupported": ("holds within bounds", None)}


def test_1732_ooe_equality_all_fields() -> None:
    bug = verdicts(R4, ["JoinerEventuallyJoins"], variant_flags=["ooe_equality_all_fields"])
    assert bug == {"JoinerEventuallyJoins": ("violated", 27)}
    assert verdicts(R4, ["JoinerEventuallyJoins"]) == {"JoinerEventuallyJoins": ("holds", None)}


def test_1732_reply_round_logicalclock() -> None:
    """With result votes of round -1 all answers would match; answering with logicalclock
    is what makes them differ (the 3.4.5 combination)."""
    base = ["result_round_minus_one", "ooe_equality_all_fields"]
    assert verdicts(R4, ["JoinerEventuallyJoins"], variant_flags=base) == {
        "JoinerEventuallyJoins": ("holds", None)}
    assert verdicts(R4, ["JoinerEventuallyJoins"],
                    variant_flags=base + ["reply_round_logicalclock"]) == {
        "JoinerEventuallyJoins": ("violated", 27)}


def test_1732_result_round_minus_one() -> None:
    def minus_one(state: tuple) -> bool:
        return any(s[F_RESULT] is not None and vote_round(s[F_RESULT]) == -1
                   for s in state[0])

    options = {"servers": 2, "max_round": 1}
    assert reachable(build_fle_model(**options, variant_flags=["result_round_minus_one"]),
                     minus_one)
    assert not reachable(build_fle_model(**options), minus_one)


def test_1732_no_update_election_vote() -> None:
    """A serving learner keeps publishing an older peerEpoch than its currentEpoch."""
    def stale(state: tuple) -> bool:
        return any(s[F_PHASE] == P_ROLE and s[F_ZAB] is not None and s[F_ZAB][0] == ZR_LEARNER
                   and s[F_ZAB][1] == Z_SERVING and vote_epoch(s[F_VOTE]) < s[F_CE]
                   for s in state[0])

    assert reachable(build_fle_model(**R5, variant_flags=["no_update_election_vote"]), stale)
    assert not reachable(build_fle_model(**R5), stale)


def test_2164_connect_back_fails() -> None:
    props = ["JoinerEventuallyJoins"]
    assert verdicts(R5, props, variant_flags=["connect_back_fails"]) == {
        "JoinerEventuallyJoins": ("violated", 3)}
    assert verdicts(R5, props) == {"JoinerEventuallyJoins": ("holds", None)}


def test_1343_epoch_bump_strict() -> None:
    props = ["EventuallyElected", "Leadership"]
    # judged with initLimit fair (the default): the re-election stops at max-round 2
    assert verdicts(R6, props, variant_flags=["epoch_bump_strict"]) == {
        "EventuallyElected": ("violated", 20), "Leadership": ("holds", None)}
    # with timeouts optional the leader stays stuck in discovery: a deadlock at 19
    assert verdicts(R6, props, variant_flags=["epoch_bump_strict"], optional_timeouts=True) == {
        "EventuallyElected": ("violated", 19), "Leadership": ("holds", None)}
    assert verdicts(R6, props) == {"EventuallyElected": ("holds", None),
                                   "Leadership": ("holds", None)}


def test_2959_observers_in_epoch_quorum() -> None:
    """Leader 2 of voters {1, 2} decides its epoch on the FOLLOWERINFO of observer 3 alone
    (a quorum of voters needs 1 too). Built from the state right after the election, as
    the full election space with an observer is millions of states."""
    from fle_testlib import run, srv, with_server

    from zkcheck.model.state import L_DISCOVERY, LEADING, OBSERVING, Z_CONNECT, ZR_LEADER, pack_vote

    def after_observer_info(**variant: Any) -> int:
        m = build_fle_model(servers=3, observer=[3], **variant)
        vote = pack_vote(0, 2, 0, 1, 0)
        st = with_server(m.initial_states()[0], 1, phase=P_ROLE, state=LEADING, vote=vote,
                         zab=(ZR_LEADER, L_DISCOVERY, 1, 0b010, 0, ()))
        st = with_server(st, 2, phase=P_ROLE, state=OBSERVING, vote=vote,
                         zab=(ZR_LEARNER, Z_CONNECT, 0))
        return srv(m, run(m, ["followerinfo 3"], st), 2)[F_ZAB][1]

    assert after_observer_info(variant_flags=["observers_in_epoch_quorum"]) > L_DISCOVERY
    assert after_observer_info() == L_DISCOVERY


def test_resend_last_always() -> None:
    """On a new connection the last sent message is re-sent although a newer one waits."""
    model = build_fle_model(servers=2, max_round=1, link_failures=1)
    bug = build_fle_model(servers=2, max_round=1, link_failures=1,
                          variant_flags=["resend_last_always"])

    def over_newer(state: tuple, label: str, succ: tuple) -> bool:
        return label.startswith("connect") and any(
            old and new and old[0] is not None and new[1] == (old[2],) and old[2] is not None
            for old, new in zip(state[1], succ[1], strict=True))

    def resent_over_newer(m: FLEModel) -> bool:
        return _any_state(m, over_newer)

    assert resent_over_newer(bug)
    assert not resent_over_newer(model)


def test_vote_order_zxid_sid() -> None:
    """3.3's (zxid, sid) order ignores the epoch: the higher sid wins at equal zxid."""
    from zkcheck.model.votes import better_votes, make_better

    old = make_better(lambda sid: 1, Variant(vote_order_zxid_sid=True))
    new = make_better(lambda sid: 1, Variant())
    assert better_votes(old, (2, 5, 1), (1, 5, 2))
    assert not better_votes(new, (2, 5, 1), (1, 5, 2))


def _any_state(m: FLEModel, pred: Callable[[tuple, str, tuple], bool]) -> bool:
    """Whether some transition (state, label, successor) of ``m`` satisfies ``pred``."""
    seen = {m.encode(s) for s in m.initial_states()}
    queue = deque(m.initial_states())
    while queue:
        state = queue.popleft()
        for label, succ in m.actions(state):
            if pred(state, label, succ):
                return True
            key = m.encode(succ)
            if key not in seen:
                seen.add(key)
                queue.append(succ)
    return False


def test_no_resend_on_connect_481() -> None:
    """Without lastMessageSent a replaced connection carries nothing that was sent before."""
    def resent(state: tuple, label: str, succ: tuple) -> bool:
        return label.startswith("reconnect") and any(
            new and new[1] and new[1] == (new[2],) for new in succ[1])

    assert resent(*_first_reconnect(build_fle_model(servers=2, reconnects=1)))
    bug = build_fle_model(servers=2, reconnects=1, variant_flags=["no_resend_on_connect_481"])
    assert not _any_state(bug, resent)


def _first_reconnect(m: FLEModel) -> tuple:
    steps = ["start 1", "start 2", "transmit 1->2", "transmit 2->1", "reconnect 2-1"]
    state = m.initial_states()[0]
    for step in steps:
        label, succ = next((lb, s) for lb, s in m.actions(state) if lb == step)
        prev, state = state, succ
    return prev, label, state


def test_zxid_raised_early_790_and_zxid_on_disk_only() -> None:
    """ZOOKEEPER-790: a leader's in-memory zxid is (epoch, 0) as soon as its epoch is
    decided; 3.8 waits for the NEWLEADER quorum, and ``zxid_on_disk_only`` never moves it."""
    def early(state: tuple, label: str, succ: tuple) -> bool:
        return any(s[F_ZAB] is not None and s[F_ZAB][0] != ZR_LEARNER and s[F_ZAB][1] == L_EPOCH
                   and s[F_ZXID] == s[F_ZAB][2] * ZXID_COUNTER_LIMIT for s in succ[0])

    opts: dict[str, Any] = dict(servers=2, max_round=1)
    assert _any_state(build_fle_model(**opts, variant_flags=["zxid_raised_early_790"]), early)
    assert not _any_state(build_fle_model(**opts), early)
    est = dict(servers=2, scenario="established", leader=1)
    leader = build_fle_model(**est).initial_states()[0][0][0]
    assert leader[F_ZXID] == 1 * ZXID_COUNTER_LIMIT
    old = build_fle_model(**est, variant_flags=["zxid_on_disk_only"]).initial_states()[0]
    assert old[0][0][F_ZXID] == 0


R9 = {"servers": 2, "max_round": 1, "reconnects": 1, "fair_timeouts": True}
R10 = {"scenario": "leader-crash", "fair_timeouts": True}


def test_following_ignored_480() -> None:
    """FLELostMessageTest's scenario: 2 hears only "1 follows 2" and cannot decide, so the
    run ends at the round bound (specs/r9-480-*.toml)."""
    assert verdicts(R9, ["BoundStall", "EventuallyElected"],
                    variant_flags=["following_ignored_480"]) == {
        "BoundStall": ("witness found", 19), "EventuallyElected": ("holds", None)}
    assert verdicts(R9, ["BoundStall", "EventuallyElected"]) == {
        "BoundStall": ("witness not found", None), "EventuallyElected": ("holds", None)}


def test_have_delivered_all_empty_4605() -> None:
    """The unmerged 4605 fix stops the re-sends while the crashed leader's queue is full:
    a lost round-2 vote deadlocks the survivors; 3.8's rule keeps them live."""
    assert verdicts(R10, ["EventuallyElected"],
                    variant_flags=["have_delivered_all_empty_4605"]) == {
        "EventuallyElected": ("violated", 11)}
    assert verdicts(R10, ["EventuallyElected"]) == {"EventuallyElected": ("holds", None)}


def test_have_delivered_rules_4605() -> None:
    """haveDelivered: 3.8 asks for one empty send queue, the 4605 fix for all of them."""
    from zkcheck.model.election import have_delivered

    st = ["start 1", "start 2", "transmit 1->2"]
    for flags, expected in (([], True), (["have_delivered_all_empty_4605"], False)):
        m = build_fle_model(servers=3, max_round=1, late=[3], variant_flags=flags)
        state = m.initial_states()[0]
        for step in st:
            state = next(s for lb, s in m.actions(state) if lb == step)
        assert have_delivered(m, state, 0) is expected  # queue 1->3 full, 1->2 empty


def test_current_epoch_on_uptodate_1282() -> None:
    """Leader 3 reaches broadcast in epoch 1 with the NEWLEADER ACK of 2, then crashes
    before UPTODATE; late server 1 holds a zxid (0:2) that epoch 1's history does not. With
    the fix 2 votes with epoch 1 and only 2 can establish epoch 2 (1 is truncated); under
    the pre-1282 rule 2 still votes with epoch 0, so 1 wins and establishes epoch 2 on a
    history the NEWLEADER quorum of epoch 1 had dropped."""
    from fle_testlib import run

    prefix = ["start 2", "start 3", "process 2", "process 3", "transmit 3->2", "deliver 3->2",
              "process 2", "process 2", "decide 2", "publish 2", "transmit 2->3",
              "deliver 2->3", "process 3", "decide 3", "publish 3", "followerinfo 2",
              "leaderinfo 2", "ackepoch 2", "setepoch 3", "newleader 2", "newleader-ack 2",
              "crash 3"]

    def establishments(flags: list[str]) -> tuple[int, set[tuple[int, int]]]:
        m = build_fle_model(servers=3, late=[1], zxid=["1=0:2"], crashes=1,
                            variant_flags=flags)
        start = run(m, prefix)
        assert start[0][1][F_CE] == (0 if flags else 1)  # 2's currentEpoch after its ACK
        seen = {start}
        queue = deque([start])
        found: set[tuple[int, int]] = set()
        while queue:
            state = queue.popleft()
            found.update((h[0], h[1]) for h in state[5])
            for _, succ in m.actions(state):
                if succ not in seen:
                    seen.add(succ)
                    queue.append(succ)
        return len(seen), found

    assert establishments(["current_epoch_on_uptodate_1282"]) == (872, {(1, 3), (2, 1)})
    assert establishments([]) == (1131, {(1, 3), (2, 2)})


R11 = {"servers": 2, "scenario": "established", "missing_accepted_epoch": [1], "crashes": 1,
       "restarts": 2}
R12 = {"servers": 2}


def test_accepted_epoch_into_current_file_1387() -> None:
    """Follower 1 without its acceptedEpoch file crashes; its failed restart writes 0 into
    the currentEpoch file (pre-1387), the next succeeds with currentEpoch 0 although leader
    2 still counts its NEWLEADER ACK of epoch 1. With the fix the restart fails for good and
    currentEpoch stays 1 (specs/r11-1387-*.toml)."""
    props = ["EpochMonotonic", "NewLeaderAckDurable", "Leadership"]
    assert verdicts(R11, props, variant_flags=["accepted_epoch_into_current_file_1387"]) == {
        "EpochMonotonic": ("violated", 2), "NewLeaderAckDurable": ("violated", 2),
        "Leadership": ("holds", None)}
    assert verdicts(R11, props) == {name: ("holds", None) for name in props}

    def epochs_after(flags: list[str]) -> list[tuple[str, int, int]]:
        """(step, phase, currentEpoch) of server 1 along crash 1, restart 1, restart 1."""
        m = build_fle_model(**R11, variant_flags=flags)
        state, seen = m.initial_states()[0], []
        for step in ("crash 1", "restart 1", "restart 1"):
            nxt = [s for lb, s in m.actions(state) if lb == step]
            if not nxt:
                break
            state = nxt[0]
            seen.append((step, state[0][0][F_PHASE], state[0][0][F_CE]))
        return seen

    assert epochs_after(["accepted_epoch_into_current_file_1387"]) == [
        ("crash 1", P_DOWN, 1), ("restart 1", P_DOWN, 0), ("restart 1", P_IDLE, 0)]
    assert epochs_after([]) == [("crash 1", P_DOWN, 1), ("restart 1", P_DOWN, 1)]


def test_newleader_ack_durable_1282() -> None:
    """NewLeaderAckDurable fires at the first NEWLEADER ACK counted from a learner that has
    not written the epoch (pre-1282) and holds in 3.8 (specs/r12-1282-*.toml)."""
    bug = build_fle_model(**R12, variant_flags=["current_epoch_on_uptodate_1282"])
    fixed = build_fle_model(**R12)
    for model, expected in ((bug, ("violated", 19)), (fixed, ("holds", None))):
        result = Search(model, properties=["NewLeaderAckDurable"]).run()
        v = result.verdicts["NewLeaderAckDurable"]
        assert (v.status, None if v.trace is None else len(v.trace)) == expected
        assert result.stats.distinct == 434


def test_zxid_raised_early_790_establishes_on_older_log() -> None:
    """ZOOKEEPER-790 on leader-crash (3 crashed with zxid 1:2, 1 and 2 at 1:0): 2 wins, its
    epoch 2 is decided with 1's FOLLOWERINFO (pre-790: 2's in-memory zxid becomes 2:0), 3
    restarts and joins 2 by Step B. Pre-790 2's ACKEPOCH check compares 3's (1, 1:2) with
    its raised (1, 2:0) and counts it: 2 establishes epoch 2 on a log (1:0) older than what
    3 acknowledged with (EstablishedLeaderUpToDate, 2 steps after the join). With the fix
    the check rejects 3. The prefix is the shortest election (18 steps) and 3's join (15);
    the whole configuration is millions of states (docs/historic-bugs.md)."""
    from fle_testlib import run

    elect = ["lost 1", "start 1", "process 1", "lost 2", "start 2", "process 2",
             "transmit 2->1", "deliver 2->1", "process 1", "process 1", "decide 1",
             "publish 1", "transmit 1->2", "deliver 1->2", "process 2", "decide 2",
             "publish 2", "followerinfo 1"]
    join = ["restart 3", "start 3", "process 3", "connect 3-1", "transmit 1->3",
            "deliver 1->3", "connect 3-2", "transmit 3->2", "deliver 3->2", "transmit 2->3",
            "deliver 2->3", "process 3", "process 3", "publish 3", "followerinfo 3"]

    def outcome(flags: list[str]) -> tuple[int, int | None]:
        m = build_fle_model(scenario="leader-crash", zxid=["3=1:2"], restarts=1,
                            variant_flags=flags)
        prop = next(p for p in m.properties() if p.name == "EstablishedLeaderUpToDate")
        start = run(m, elect + join)
        seen = {start: 0}
        queue = deque([start])
        first = None
        while queue:
            state = queue.popleft()
            if first is None and not prop.predicate(state):
                first = seen[state]
            for _, succ in m.actions(state):
                if succ not in seen:
                    seen[succ] = seen[state] + 1
                    queue.append(succ)
        return len(seen), first

    assert outcome(["zxid_raised_early_790"]) == (1818, 2)
    assert outcome([]) == (1235, None)


def test_every_flag_has_a_mutant_test() -> None:
    """A new pre-fix flag needs its test here."""
    import sys

    source = open(sys.modules[__name__].__file__).read()
    for f in fields(Variant):
        assert f.name in source, f"no known-bug test for variant flag {f.name}"


# ------------------------------------------------------------------ release presets

@pytest.mark.parametrize(("version", "expected"), [
    ("3.4.3", ("violated", 30)),  # 1419 present
    ("3.4.5", ("holds", None)),   # 1419 fixed in 3.4.4
    ("3.8", ("holds", None)),
])
def test_presets_r1(version: str, expected: tuple) -> None:
    assert verdicts(R1, ["EventuallyElected"], zk_version=version)["EventuallyElected"] == \
        expected


@pytest.mark.parametrize(("version", "expected"), [
    ("3.3", "violated"), ("3.4.3", "violated"), ("3.4.5", "holds within bounds"),
    ("3.8", "holds within bounds"),
])
def test_presets_r3(version: str, expected: str) -> None:
    got = verdicts(R3, ["DecisionSupported"], depth=13, zk_version=version)
    assert got["DecisionSupported"][0] == expected


@pytest.mark.parametrize(("version", "expected"), [
    ("3.4.5", ("violated", 27)),
    ("3.5.4", ("violated", 3)),  # 1732 fixed there, but joiner 1 is stuck by 2164 instead
    ("3.8", ("holds", None)),
])
def test_presets_r4(version: str, expected: tuple) -> None:
    got = verdicts(R4, ["JoinerEventuallyJoins"], zk_version=version)
    assert got["JoinerEventuallyJoins"] == expected


@pytest.mark.parametrize(("version", "expected"), [
    ("3.5.4", ("violated", 3)), ("3.4.5", ("holds", None)), ("3.8", ("holds", None)),
])
def test_presets_r5(version: str, expected: tuple) -> None:
    got = verdicts(R5, ["JoinerEventuallyJoins"], zk_version=version)
    assert got["JoinerEventuallyJoins"] == expected


def test_preset_3_3_decides_without_quorum() -> None:
    got = verdicts(R2, ["DecisionSupported"], depth=12, zk_version="3.3")
    assert got["DecisionSupported"][0] == "violated"


def test_presets_are_the_release_rules() -> None:
    assert PRESETS["3.8"] == Variant()
    assert PRESETS["3.4.3"].vote_order_1419 and not PRESETS["3.4.5"].vote_order_1419
    assert PRESETS["3.5.4"].connect_back_fails and not PRESETS["3.4.5"].connect_back_fails
    for version, variant in PRESETS.items():
        assert variant.name == version


# ---------------------------------------------------------------- issue 16: discovery flags


def _to_followerinfo(m: FLEModel) -> tuple:
    """Two servers: the shortest election of 2 up to 1's FOLLOWERINFO (epoch decided)."""
    from zkcheck.model.state import F_ZAB, L_EPOCH

    trace = Search(m, properties=["LeaderEstablished"]).run().verdicts[
        "LeaderEstablished"].trace
    state = m.initial_states()[0]
    for label, _ in trace.steps:
        state = next(s for lbl, s in m.actions(state) if lbl == label)
        if label == "followerinfo 1":
            assert state[0][1][F_ZAB][1] == L_EPOCH
            return state
    raise AssertionError("no FOLLOWERINFO on the shortest election")


def test_ack_quorum_not_awaited_1191_establishes_without_acks():
    bug = verdicts({"servers": 2}, ["EstablishedByQuorum", "Leadership"],
                   variant_flags=["ack_quorum_not_awaited_1191"])
    assert bug == {"EstablishedByQuorum": ("violated", 16), "Leadership": ("holds", None)}
    assert verdicts({"servers": 2}, ["EstablishedByQuorum"]) == {
        "EstablishedByQuorum": ("holds", None)}


def test_ack_epoch_twice_counts_an_ack_for_an_accepted_epoch():
    from zkcheck.model.state import F_AE, F_HWM, F_ZAB, L_SYNC

    for flags, established in (([], False), (["ack_epoch_twice"], True)):
        m = build_fle_model(servers=2, variant_flags=flags)
        st = _to_followerinfo(m)
        s1 = st[0][0]
        # server 1 already accepted epoch 1 (from an earlier leader that never finished)
        s1 = s1[:F_AE] + (1,) + s1[F_AE + 1:F_HWM] + ((0, 1),) + s1[F_HWM + 1:]
        st = ((s1, st[0][1]),) + st[1:]
        for label in ("leaderinfo 1", "ackepoch 1"):
            st = next(s for lbl, s in m.actions(st) if lbl == label)
        assert (st[0][1][F_ZAB][1] >= L_SYNC) == established


def test_accepted_epoch_lost_on_crash_breaks_epoch_monotonic():
    options = {"scenario": "leader-crash", "epoch": ["1=1:2"], "crashes": 1}
    bug = verdicts(options, ["EpochMonotonic"], variant_flags=["accepted_epoch_lost_on_crash"])
    assert bug == {"EpochMonotonic": ("violated", 1)}
    assert verdicts(options, ["EpochMonotonic"], depth=6) == {
        "EpochMonotonic": ("holds within bounds", None)}
