"""The FLE log parser on snippets of real ZooKeeper 3.8.0 logs (tests/data/fle_logs/)."""

from pathlib import Path

from zkcheck.conformance.fle_log import PEER, RECEIVER, first_elections, parse_file, parse_lines
from zkcheck.conformance.harness import parse_srvr

DATA = Path(__file__).parent / "data" / "fle_logs"


def test_follower_log_events_in_file_order():
    events = parse_file(DATA / "follower3.log", sid=1)
    kinds = [e.kind for e in events]
    assert kinds[:3] == ["state", "update_proposal", "new_election"]
    first = events[2]
    assert (first.thread, first.zxid) == (PEER, 0)
    notes = [e for e in events if e.kind == "notification"]
    assert notes and all(e.thread == RECEIVER for e in notes)
    own = notes[0]
    assert (own.sender, own.state, own.leader, own.round, own.peer_epoch, own.zxid,
            own.my_state) == (1, "LOOKING", 1, 1, 0, 0, "LOOKING")
    assert any(e.kind == "decided" and e.my_state == "FOLLOWING" for e in events)
    leave = next(e for e in events if e.kind == "leave_fle")
    assert (leave.leader, leave.my_state) == (3, "FOLLOWING")
    assert any(e.kind == "election_took" and e.ms > 0 for e in events)


def test_second_election_carries_written_zxid_and_epoch():
    events = parse_file(DATA / "follower3.log", sid=1)
    elections = [e for e in events if e.kind == "new_election"]
    assert [hex(e.zxid) for e in elections] == ["0x0", "0x100000007"]
    sends = [e for e in events if e.kind == "send" and e.round == 2]
    assert sends and all(e.peer_epoch == 1 for e in sends)


def test_stack_traces_and_other_loggers_are_skipped():
    lines = (DATA / "follower3.log").read_text().splitlines()
    noise = [line for line in lines if line.startswith(("java.", "\tat "))]
    assert noise, "fixture should contain a stack trace"
    assert list(parse_lines(noise, sid=1)) == []


def test_leader_sees_looking_notifications_while_leading():
    events = parse_file(DATA / "leader2.log", sid=2)
    assert any(e.kind == "decided" and e.my_state == "LEADING" for e in events)
    assert any(e.kind == "notification" and e.my_state in ("LEADING", "FOLLOWING")
               for e in events)
    assert first_elections(events) == {2: 0}


def test_timeout_line_and_hex_negative_leader():
    line = ("2026-11-26 19:24:10,001 [myid:1] INFO  [QuorumPeer[myid=1](plain=127.0.0.1:1)"
            "(secure=disabled)] FastLeaderElection - Notification time out: 400 ms")
    (event,) = parse_lines([line], sid=1)
    assert (event.kind, event.ms, event.thread) == ("timeout", 400, PEER)


def test_srvr_parsing():
    assert parse_srvr(None).mode == "down"
    assert parse_srvr("This ZooKeeper instance is not currently serving requests\n").mode \
        == "looking"
    text = "Zookeeper version: 3.8.0\nZxid: 0x100000007\nMode: follower\nNode count: 9\n"
    status = parse_srvr(text)
    assert (status.mode, status.zxid) == ("follower", 0x100000007)


# --------------------------------------------------------------- trace validation (recorded)

import dataclasses  # noqa: E402
import json  # noqa: E402

import pytest  # noqa: E402

from zkcheck.conformance.fle_log import Event  # noqa: E402
from zkcheck.conformance.harness import JournalEntry  # noqa: E402
from zkcheck.conformance.observations import (  # noqa: E402
    link_breaks,
    observed_streams,
    window_end,
    window_start,
)
from zkcheck.conformance.predict import Episode  # noqa: E402
from zkcheck.conformance.validate import validate  # noqa: E402
from zkcheck.errors import InputError  # noqa: E402
from zkcheck.model.config import ModelConfig  # noqa: E402
from zkcheck.model.fle import FLEModel  # noqa: E402
from zkcheck.model.state import F_CLOCK, T_SERVERS  # noqa: E402

EPISODES = Path(__file__).parent / "data" / "conformance"


def _recorded(name: str):
    """An episode recorded from a real 3.8 run (its window's events and harness journal)."""
    d = json.loads((EPISODES / f"{name}.json").read_text())
    ep = Episode(d["n"], tuple(tuple(i) for i in d["inputs"]), frozenset(d["up"]),
                 boots_any=frozenset(d["boots_any"]),
                 boots_join=tuple(d.get("boots_join", ())), crashed=d["crashed"])
    events = [Event(**e) for e in d["events"]]
    journal = [JournalEntry(**j) for j in d["journal"]]
    return ep, d["leader"], events, d["t0"], d["t1"], journal


@pytest.mark.parametrize("name, events, clocks, steps", [
    # former false alarm: survivor 1 keeps logicalclock 2, the restarted 3 starts at 0
    ("stale-higher-sid-3-ep3", 14, {1: 2}, 30),
    # former false alarm: leader 3 lost its quorum in round 1, 1 stays down, 2 boots
    ("quorum-loss-3-ep2", 13, {3: 1}, 29),
    # 5 servers launched together: exhausted 60000 states before the reduced search
    ("fresh5-simultaneous", 48, {}, 131),
    # budget exhausted: the leader was killed 2 ms after it was seen stable, and the
    # survivors' LOOKING + new election (next episode) fell into this window
    ("stale-higher-sid-3-ep1", 20, {}, 51),
    # same, plus a replaced connection 3-1: server 1 receives 3's vote twice
    ("failover3-repeated-ep1", 24, {}, 61),
    # "Notification time out" is logged after the re-broadcast it triggers
    ("failover3-repeated-ep2", 19, {1: 1, 2: 1}, 37),
    # model start differed: crashed leader 2 (zxid 0:0 on disk) behind follower 3 (2:0)
    ("failover3-repeated-ep3", 13, {1: 2, 3: 2}, 27),
    # 5-server episodes that exhausted 60000 states: a connectAll-only timeout of server 4
    # (started first, no connection yet), a duplicate after a reconnect 1-2, a reconnect
    ("crash5-two-stale-ep1", 65, {}, 178),
    ("failover5-repeated-ep1", 63, {}, 172),
    ("crash5-equal-zxid-ep1", 71, {}, 193),
    # the harness's final stop of all servers (not journaled then) sent the follower 1 back
    # to LOOKING inside the window: "no matching model step" in a conform run
    ("crash3-different-zxid-ep2", 15, {2: 1}, 31),
    # a conform run's budget exhaustion (rebuilt from its logs): reconnects 3-1 and 5-4,
    # each side of 5-4 receives the other's vote twice
    ("fresh5-simultaneous-reconnect", 58, {}, 159),
    # likewise: breaks 2-4, 1-4 and 1-2; one reconnect 1-2 gives both sides a duplicate
    ("failover-writes-5-reconnects", 62, {}, 166),
    # pair 1-4 broke twice: server 1 receives 4's first vote three times
    ("stale-higher-sid-5-reconnects", 74, {}, 203),
])
def test_recorded_episode_is_explained(name, events, clocks, steps):
    ep, leader, evs, t0, t1, journal = _recorded(name)
    v = validate(ep, leader, evs, t0, t1, journal, max_states=10_000)
    assert v.explained, v.text()
    assert (v.events, v.clocks, v.steps) == (events, clocks, steps)
    assert v.states < 10_000


def test_tampered_episode_reports_the_first_unexplained_event():
    """A receipt the model cannot produce (server 3 hears round 4 from 1, which never got
    past round 3) is a disagreement, proved by the complete search."""
    ep, leader, evs, t0, t1, journal = _recorded("stale-higher-sid-3-ep3")
    bad = [dataclasses.replace(e, round=4) if e.kind == "notification" and e.sid == 3
           and e.sender == 1 else e for e in evs]
    v = validate(ep, leader, bad, t0, t1, journal, max_states=50_000)
    assert not v.explained
    assert v.reason == "no matching model step"
    assert (v.consumed, v.events) == (8, 14)
    assert v.first_unexplained == (
        "server 1 decided (2,); or server 1 receives from 3: LOOKING(leader 1, zxid 2:7, "
        "round 3, peerEpoch 2) while LOOKING; or server 3 broadcasts LOOKING(leader 1, zxid "
        "2:7, round 3, peerEpoch 2); or server 3 receives from 1: LOOKING(leader 1, zxid 2:7, "
        "round 4, peerEpoch 2) while LOOKING")
    assert v.model_state["servers"][1]["logicalclock"] == 3


def test_tampered_broadcast_is_reported():
    """Server 1's logged broadcasts are matched too: a first vote for 3 instead of itself
    is no model step (its StartRound proposes itself)."""
    ep, leader, evs, t0, t1, journal = _recorded("failover3-repeated-ep3")
    bad = [dataclasses.replace(e, leader=3) if e.kind == "send" and e.sid == 1
           and e.leader == 1 else e for e in evs]
    v = validate(ep, leader, bad, t0, t1, journal, max_states=50_000)
    assert (v.explained, v.reason, v.consumed, v.events) == (
        False, "no matching model step", 4, 13)
    assert v.first_unexplained.startswith("server 1 new_election (0,); or ")


def test_window_ends_at_the_next_harness_action():
    ep, leader, evs, t0, t1, journal = _recorded("stale-higher-sid-3-ep1")
    kill = next(j for j in journal if j.time > t1)
    assert kill.kind == "kill" and window_end(t1, journal) == kill.time < t1 + 0.05
    # without the cut, the next episode's return to LOOKING is taken for a second round
    v = validate(ep, leader, evs, t0, t1, [j for j in journal if j.time <= t1],
                 max_states=2_000)
    assert not v.explained and v.events == 30


def test_window_ends_at_the_final_stop():
    ep, leader, evs, t0, t1, journal = _recorded("crash3-different-zxid-ep2")
    assert journal[-1].kind == "stop"
    v = validate(ep, leader, evs, t0, t1, journal[:-1], max_states=60_000)
    assert (v.reason, v.consumed, v.events) == ("no matching model step", 18, 18)
    assert v.first_unexplained.startswith("all events matched")


def test_duplicate_receipt_needs_the_logged_reconnect():
    ep, leader, evs, t0, t1, journal = _recorded("failover3-repeated-ep1")
    assert link_breaks(ep, evs, t0, window_end(t1, journal)) == {(1, 3): 1}
    v = validate(ep, leader, [e for e in evs if e.kind != "link_break"], t0, t1, journal,
                 max_states=2_000)
    # the furthest point reached waits for the duplicate (23 of 24 events matched)
    assert (v.explained, v.consumed, v.events) == (False, 23, 24)
    assert v.first_unexplained.startswith(
        "server 1 receives from 3: LOOKING(leader 3, zxid 0:0, round 1, peerEpoch 0)")


def test_timeout_follows_its_rebroadcast_and_explicit_leader_episode():
    ep, _leader, evs, t0, t1, journal = _recorded("failover3-repeated-ep2")
    streams, _ = observed_streams(ep, evs, t0, window_end(t1, journal), journal)
    assert [o.kind for o in streams[(1, PEER)]] == [
        "looking", "new_election", "bcast", "bcast", "timeout", "bcast", "decided"]
    ep, *_ = _recorded("failover3-repeated-ep3")
    assert ep.init_of(3)[2] > ep.init_of(2)[2]  # the follower is ahead of crashed leader 2
    assert ep.leader_crash_fits()
    config = ep.config(max_round=3)
    assert (config.scenario, config.leader) == ("leader-crash", 2)


@pytest.mark.parametrize("name", ["fresh5-simultaneous-open", "crash5-two-stale-open"])
def test_open_5_server_starts_are_inconclusive_not_disagreements(name):
    """Open (rebuilt from conform runs' logs): 5-server starts with 3-4 replaced
    connections that 60000 states do not explain. With a small budget they must stay
    "state budget exhausted" (exit 3), never a false "no matching model step"."""
    ep, leader, evs, t0, t1, journal = _recorded(name)
    v = validate(ep, leader, evs, t0, t1, journal, max_states=2_000)
    assert (v.explained, v.reason) == (False, "state budget exhausted")


def test_link_break_line():
    line = ("2026-11-26 22:07:30,341 [myid:1] WARN  [RecvWorker:3] QuorumCnxManager - "
            "Connection broken for id 3, my id = 1")
    (event,) = parse_lines([line], sid=1)
    assert (event.kind, event.sender, event.thread) == ("link_break", 3, "other")


def test_startup_round_is_the_kept_logicalclock():
    m = FLEModel(ModelConfig.make(3, late=[2], rounds={3: 1}, max_round=3))
    init = m.initial_states()[0]
    assert [s[F_CLOCK] for s in init[T_SERVERS]] == [0, 0, 1]
    start = dict(m.actions(init))["start 3"]
    assert start[T_SERVERS][2][F_CLOCK] == 2
    with pytest.raises(InputError, match="late starter: it boots with logicalclock 0"):
        ModelConfig.make(3, late=[2], rounds={2: 1})
    with pytest.raises(InputError, match="round of server 3 must be in 1..max-round"):
        ModelConfig.make(3, rounds={3: 3}, max_round=2)


# ------------------------------------------- conform failures captured after issue 8 (flaky)

def test_receipt_logged_with_the_state_before_the_change():
    """`stale-higher-sid-3` #2 of a conform run: server 1 logged 2's LOOKING vote "while
    FOLLOWING" (WorkerReceiver's first getPeerState() read), but its QuorumPeer thread had
    just gone LOOKING and the branch (second read) queued the vote: 1 then proposes 2."""
    ep, leader, evs, t0, t1, journal = _recorded("stale-higher-sid-3-ep2-state-race")
    v = validate(ep, leader, evs, t0, t1, journal, max_states=10_000)
    assert (v.explained, v.events, v.states, v.steps, v.races, v.clocks) == (
        True, 12, 75, 25, 1, {1: 1, 2: 1})
    # the logged state must be the one before the change: LEADING is no model step
    bad = [dataclasses.replace(e, my_state="LEADING") if e.kind == "notification"
           and e.sid == 1 and e.sender == 2 and e.my_state == "FOLLOWING" else e for e in evs]
    v = validate(ep, leader, bad, t0, t1, journal, max_states=10_000)
    assert (v.explained, v.reason, v.consumed, v.events) == (
        False, "no matching model step", 7, 12)
    assert "server 1 receives from 2: LOOKING(leader 2, zxid 0:0, round 2, peerEpoch 1) " \
        "while LEADING" in v.first_unexplained


def test_window_starts_at_the_opening_action():
    """`failover3-repeated` #5 of a conform run (rebuilt from its logs): the joiner 3's
    receipts of the ensemble's replies ("FOLLOWING(leader 2) while FOLLOWING"), logged
    40 ms before the kill of leader 2, fell into the window that started 50 ms before the
    episode was opened."""
    ep, leader, evs, t0, t1, journal = _recorded("failover3-repeated-ep5-joiner-tail")
    kill = journal[0]
    assert kill.kind == "kill" and window_start(t0, journal) == kill.time - 0.002 > t0 - 0.05
    v = validate(ep, leader, evs, t0, t1, journal, max_states=10_000)
    assert (v.explained, v.events, v.states, v.steps, v.races) == (True, 13, 45, 27, 0)
    v = validate(ep, leader, evs, t0, t1, journal[1:], max_states=10_000)
    assert (v.explained, v.reason, v.consumed, v.events) == (
        False, "no matching model step", 6, 14)
    assert "server 3 receives from 1: FOLLOWING(leader 2, zxid 3:0, round 4, peerEpoch 4) " \
        "while FOLLOWING" in v.first_unexplained


STALE = "known modelling limit: stale WorkerReceiver reply; search exhausted"


@pytest.mark.parametrize("name, consumed, events, reply", [
    # 3's reply LOOKING(leader 2, round 2) reaches 1 after 3's new round-3 broadcast
    ("failover3-repeated-ep3-stale-reply", 12, 14,
     "server 1 receives from 3: LOOKING(leader 2, zxid 0:0, round 2, peerEpoch 2) while "
     "LOOKING [3's reply to 1's LOOKING notification received while FOLLOWING, built from "
     "its role vote (round 2) after it went LOOKING and broadcast round 3 (state read after "
     "the change)]"),
    ("failover3-repeated-ep5-stale-reply", 7, 14,
     "server 1 receives from 3: LOOKING(leader 2, zxid 3:0, round 4, peerEpoch 4) while "
     "LOOKING [3's reply to 1's LOOKING notification received while FOLLOWING, built from "
     "its role vote (round 4) after it went LOOKING and broadcast round 5 (state read after "
     "the change)]"),
])
def test_stale_reply_is_the_known_modelling_limit(name, consumed, events, reply):
    ep, leader, evs, t0, t1, journal = _recorded(name)
    v = validate(ep, leader, evs, t0, t1, journal, max_states=10_000)
    assert (v.explained, v.reason, v.consumed, v.events) == (False, STALE, consumed, events)
    assert v.first_unexplained.startswith(reply + "; also pending: ")
    assert "no matching model step" not in v.text()  # inconclusive (exit 3), not exit 1
    # it never hides an earlier unexplained event: a tampered first vote of server 1
    bad = [dataclasses.replace(e, leader=3) if e.kind == "send" and e.sid == 1
           and e.leader == 1 else e for e in evs]
    v = validate(ep, leader, bad, t0, t1, journal, max_states=10_000)
    assert (v.explained, v.reason) == (False, "no matching model step")
    assert v.first_unexplained.startswith("server 1 new_election")
    # nor does it apply without its log evidence: 3's receipt that triggered the reply
    trigger = [e for e in evs if e.kind == "notification" and e.sid == 3 and e.sender == 1
               and e.state == "LOOKING" and e.my_state == "FOLLOWING"]
    v = validate(ep, leader, [e for e in evs if e not in trigger], t0, t1, journal,
                 max_states=10_000)
    assert (v.explained, v.reason) == (False, "no matching model step")


def test_stale_reply_after_the_new_broadcast_five_servers():
    """`failover-writes-5` #2 of a conform run (rebuilt from its logs), its "state budget
    exhausted" after 40/52 events: 4's FOLLOWING(leader 5, round 1) reply reaches 1 after
    4's round-2 broadcast. With too small a budget for the check of everything logged
    before the reply, it stays a plain budget exhaustion."""
    ep, leader, evs, t0, t1, journal = _recorded("failover-writes-5-ep2-stale-reply")
    v = validate(ep, leader, evs, t0, t1, journal, max_states=10_000)
    assert (v.explained, v.consumed, v.events) == (False, 40, 52)
    assert v.reason == "known modelling limit: stale WorkerReceiver reply; search budget spent"
    assert v.first_unexplained.startswith(
        "server 1 receives from 4: FOLLOWING(leader 5, zxid 0:0, round 1, peerEpoch 1) while "
        "LOOKING [4's reply to 1's LOOKING notification received while FOLLOWING, built from "
        "its role vote (round 1) after it went LOOKING and broadcast round 2; 1 logged that "
        "broadcast first]; also pending: ")
    v = validate(ep, leader, evs, t0, t1, journal, max_states=5_000)
    assert (v.explained, v.reason) == (False, "state budget exhausted")
