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
