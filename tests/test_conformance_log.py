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
                 boots_any=frozenset(d["boots_any"]), crashed=d["crashed"])
    events = [Event(**e) for e in d["events"]]
    journal = [JournalEntry(**j) for j in d["journal"]]
    return ep, d["leader"], events, d["t0"], d["t1"], journal


@pytest.mark.parametrize("name, events, clocks, steps", [
    # former false alarm: survivor 1 keeps logicalclock 2, the restarted 3 starts at 0
    ("stale-higher-sid-3-ep3", 11, {1: 2}, 30),
    # former false alarm: leader 3 lost its quorum in round 1, 1 stays down, 2 boots
    ("quorum-loss-3-ep2", 10, {3: 1}, 29),
    # 5 servers launched together: exhausted 60000 states before the reduced search
    ("fresh5-simultaneous", 39, {}, 131),
])
def test_recorded_episode_is_explained(name, events, clocks, steps):
    ep, leader, evs, t0, t1, journal = _recorded(name)
    v = validate(ep, leader, evs, t0, t1, journal, max_states=5_000)
    assert v.explained, v.text()
    assert (v.events, v.clocks, v.steps) == (events, clocks, steps)
    assert v.states < 1_000


def test_tampered_episode_reports_the_first_unexplained_event():
    """A receipt the model cannot produce (server 3 hears round 4 from 1, which never got
    past round 3) is a disagreement, proved by the complete search."""
    ep, leader, evs, t0, t1, journal = _recorded("stale-higher-sid-3-ep3")
    bad = [dataclasses.replace(e, round=4) if e.kind == "notification" and e.sid == 3
           and e.sender == 1 else e for e in evs]
    v = validate(ep, leader, bad, t0, t1, journal, max_states=50_000)
    assert not v.explained
    assert v.reason == "no matching model step"
    assert (v.consumed, v.events) == (6, 11)
    assert v.first_unexplained == (
        "server 1 decided (2,); or server 1 receives from 3: LOOKING(leader 1, zxid 2:7, "
        "round 3, peerEpoch 2) while LOOKING; or server 3 decided (1,); or server 3 receives "
        "from 1: LOOKING(leader 1, zxid 2:7, round 4, peerEpoch 2) while LOOKING")
    assert v.model_state["servers"][1]["logicalclock"] == 3


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
