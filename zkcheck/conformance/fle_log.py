"""Parse ZooKeeper 3.8.0 server logs (log4j pattern of harness.LOG4J) into election events.

The wording is the 3.8.0 one (real-zookeeper.md §2.1, checked against logs of this
harness). Each event keeps the thread that logged it: the WorkerReceiver thread logs
receipts and replies, the QuorumPeer thread logs the election loop and role changes. The
order of lines of one thread is the order of its actions; across threads (and servers) only
causality orders them -- log4j stamps the time before taking its lock, so timestamps in a
file are not even monotonic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PEER, RECEIVER, OTHER = "peer", "receiver", "other"

_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \[myid:(\d*)\] (\w+)\s+"
                   r"\[(.*?)\] ([\w$.]+) - (.*)$")
_HEX = r"0x([0-9a-f]+)"
_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("FastLeaderElection", "notification", re.compile(
        r"Notification: my state:(\w+); n\.sid:(\d+), n\.state:(\w+), n\.leader:(-?\d+), "
        rf"n\.round:{_HEX}, n\.peerEpoch:{_HEX}, n\.zxid:{_HEX}")),
    ("FastLeaderElection", "send", re.compile(
        rf"Sending Notification: (-?\d+) \(n\.leader\), {_HEX} \(n\.zxid\), {_HEX} \(n\.round\), "
        rf"(\d+) \(recipient\), (\d+) \(myid\), {_HEX} \(n\.peerEpoch\)")),
    ("FastLeaderElection", "reply", re.compile(
        r"Sending new notification\. My id =(\d+) recipient=(\d+) zxid=" + _HEX
        + r" leader=(-?\d+)")),
    ("FastLeaderElection", "new_election", re.compile(
        rf"New election\. My id = (\d+), proposed zxid={_HEX}")),
    ("FastLeaderElection", "update_proposal", re.compile(
        rf"Updating proposal: (-?\d+) \(newleader\), {_HEX} \(newzxid\)")),
    ("FastLeaderElection", "add_vote", re.compile(
        rf"Adding vote: from=(\d+), proposed leader=(-?\d+), proposed zxid={_HEX}, "
        rf"proposed election epoch={_HEX}")),
    ("FastLeaderElection", "timeout", re.compile(r"Notification time out: (\d+) ms")),
    ("FastLeaderElection", "leave_fle", re.compile(
        rf"About to leave FLE instance: leader=(-?\d+), zxid={_HEX}, my id=(\d+), "
        r"my state=(\w+)")),
    ("QuorumPeer", "state", re.compile(r"(LOOKING|FOLLOWING|LEADING|OBSERVING)$")),
    ("QuorumPeer", "decided", re.compile(r"Peer state changed: (following|leading|observing)$")),
    ("QuorumPeer", "zab_phase", re.compile(
        r"Peer state changed: (?:following|leading|observing) - (.+)$")),
    ("QuorumCnxManager", "link_break", re.compile(r"Connection broken for id (\d+),")),
    ("Leader", "election_took", re.compile(r"LEADER ELECTION TOOK - (\d+) MS")),
    ("Learner", "election_took", re.compile(r"LEADER ELECTION TOOK - (\d+) MS")),
)


@dataclass(frozen=True)
class Event:
    """One observed election event of server ``sid`` (incarnation ``life``).

    Field use by kind: notification (sender, state, leader, round, peer_epoch, zxid,
    my_state); send (leader, zxid, round, recipient, peer_epoch); reply (recipient, zxid,
    leader); new_election (zxid); update_proposal (leader, zxid); add_vote (sender,
    leader, zxid, round); timeout (ms); leave_fle (leader, zxid, my_state); state
    (my_state); decided (my_state); zab_phase (text); election_took (ms); link_break
    (sender: the peer whose election connection broke, logged by its RecvWorker).
    """

    time: float
    sid: int
    life: int
    thread: str
    kind: str
    line: int
    sender: int | None = None
    state: str | None = None
    leader: int | None = None
    round: int | None = None
    peer_epoch: int | None = None
    zxid: int | None = None
    my_state: str | None = None
    recipient: int | None = None
    ms: int | None = None
    text: str | None = None

    def short(self) -> str:
        """A one-line rendering for reports."""
        where = f"server {self.sid}" + (f" (life {self.life})" if self.life > 1 else "")
        if self.kind == "notification":
            return (f"{where} received from {self.sender}: {self.state}(leader {self.leader}, "
                    f"round {self.round}, peerEpoch {self.peer_epoch}, zxid {self.zxid:#x}) "
                    f"while {self.my_state}")
        if self.kind == "new_election":
            return f"{where} starts a new election with zxid {self.zxid:#x}"
        if self.kind in ("state", "decided"):
            return f"{where} becomes {self.my_state}"
        if self.kind == "timeout":
            return f"{where} notification time out ({self.ms} ms)"
        return f"{where} {self.kind}"


def _thread_kind(thread: str) -> str:
    if thread.startswith("QuorumPeer["):
        return PEER
    if thread.startswith("WorkerReceiver["):
        return RECEIVER
    return OTHER


def _timestamp(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def _fields(kind: str, g: tuple[str, ...]) -> dict:
    h = lambda s: int(s, 16)  # noqa: E731 - hex fields as in the log
    if kind == "notification":
        return dict(my_state=g[0], sender=int(g[1]), state=g[2], leader=int(g[3]),
                    round=h(g[4]), peer_epoch=h(g[5]), zxid=h(g[6]))
    if kind == "send":
        return dict(leader=int(g[0]), zxid=h(g[1]), round=h(g[2]), recipient=int(g[3]),
                    peer_epoch=h(g[5]))
    if kind == "reply":
        return dict(recipient=int(g[1]), zxid=h(g[2]), leader=int(g[3]))
    if kind == "new_election":
        return dict(zxid=h(g[1]))
    if kind == "update_proposal":
        return dict(leader=int(g[0]), zxid=h(g[1]))
    if kind == "add_vote":
        return dict(sender=int(g[0]), leader=int(g[1]), zxid=h(g[2]), round=h(g[3]))
    if kind in ("timeout", "election_took"):
        return dict(ms=int(g[0]))
    if kind == "leave_fle":
        return dict(leader=int(g[0]), zxid=h(g[1]), my_state=g[3])
    if kind in ("state", "decided"):
        return dict(my_state=g[0].upper())
    if kind == "link_break":
        return dict(sender=int(g[0]))
    return dict(text=g[0])


def parse_lines(lines: Iterable[str], sid: int, life: int = 1) -> Iterator[Event]:
    """Election events of one server incarnation, in file order (lines that are not
    election events -- other loggers, stack traces -- are skipped)."""
    for number, raw in enumerate(lines, 1):
        m = _LINE.match(raw.rstrip("\n"))
        if m is None:
            continue
        stamp, _myid, _level, thread, logger, message = m.groups()
        event = classify(_timestamp(stamp), sid, life, thread, logger, message, number)
        if event is not None:
            yield event


def classify(time: float, sid: int, life: int, thread: str, logger: str, message: str,
             line: int) -> Event | None:
    """The election event of one log record (logger: the class's simple name; an inner
    class such as ``FastLeaderElection$Messenger$WorkerReceiver`` counts as its outer
    class), or None when the record is no election event."""
    logger = logger.split("$", 1)[0]
    for rule_logger, kind, pattern in _RULES:
        if logger != rule_logger:
            continue
        found = pattern.match(message) if kind != "election_took" else pattern.search(message)
        if found is None:
            continue
        return Event(time, sid, life, _thread_kind(thread), kind, line,
                     **_fields(kind, found.groups()))
    return None


def parse_file(path: str | Path, sid: int, life: int = 1) -> list[Event]:
    with open(path, encoding="utf-8", errors="replace") as f:
        return list(parse_lines(f, sid, life))


def first_elections(events: Iterable[Event]) -> dict[int, int]:
    """sid -> proposed zxid of the first "New election" of each server in ``events``."""
    out: dict[int, int] = {}
    for e in events:
        if e.kind == "new_election" and e.sid not in out:
            out[e.sid] = e.zxid
    return out
