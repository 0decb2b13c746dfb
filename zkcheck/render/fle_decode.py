"""Decode the compact FLE state into plain values for rendering.

The model packs votes and messages into ints (``zkcheck.model.state``); rendering needs
them as fields. Everything that knows the packed layout is in this module, through the
model's own ``unpack_*`` helpers, so a change of the layout touches only this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zkcheck.model import state as L

Msg = tuple[int, int, int, int, int]  # (state, leader, zxid, round, peerEpoch)
Vote = tuple[int, int, int, int]  # (leader, zxid, round, peerEpoch)
Key = tuple[int, int, int]  # (leader, zxid, peerEpoch)


def msg(word: Any) -> Msg | None:
    """(state, leader, zxid, round, peerEpoch) of a notification or stored vote."""
    if word is None:
        return None
    if isinstance(word, tuple):  # unpacked layout: (state, leader, zxid, round, peerEpoch)
        return word if len(word) == 5 else (L.LOOKING, *word)  # type: ignore[return-value]
    return L.unpack_vote(word)


def vote(word: Any) -> Vote | None:
    m = msg(word)
    return None if m is None else m[1:]


def key(word: Any) -> Key | None:
    if word is None:
        return None
    if isinstance(word, tuple):
        return word  # type: ignore[return-value]
    return L.unpack_key(word)


def queue_entry(entry: Any) -> tuple[int, Msg]:
    """(sender index, message) of a recvqueue entry."""
    if isinstance(entry, tuple):
        return entry[0], entry[1:]  # type: ignore[return-value]
    return entry & ((1 << L.SENDER_BITS) - 1), L.unpack_vote(entry >> L.SENDER_BITS)


@dataclass(frozen=True)
class Server:
    """One server's fields, decoded."""

    phase: int
    state: int
    clock: int
    proposal: Key | None
    vote: Vote | None
    queue: tuple[tuple[int, Msg], ...]
    recv: dict[int, Msg]
    ooe: dict[int, Msg]
    result: Vote | None
    dec: tuple[int, int, int] | None
    ce: int
    ae: int
    zxid: int
    zab: tuple | None

    @property
    def up(self) -> bool:
        return self.phase != L.P_DOWN

    @property
    def leader_zab(self) -> tuple | None:
        """(phase, epoch, mask, conn) when running as a Zab leader."""
        z = self.zab
        return z[1:5] if z is not None and z[0] == L.ZR_LEADER else None

    @property
    def learner_zab(self) -> tuple[int, int] | None:
        """(phase, minus1) when running as a Zab learner."""
        z = self.zab
        return (z[1], z[2]) if z is not None and z[0] == L.ZR_LEARNER else None


def server(s: tuple) -> Server:
    return Server(
        phase=s[L.F_PHASE], state=s[L.F_STATE], clock=s[L.F_CLOCK], proposal=key(s[L.F_PROP]),
        vote=vote(s[L.F_VOTE]), queue=tuple(queue_entry(e) for e in s[L.F_QUEUE]),
        recv={j: msg(v) for j, v in enumerate(s[L.F_RECV]) if v is not None},
        ooe={j: msg(v) for j, v in enumerate(s[L.F_OOE]) if v is not None},
        result=vote(s[L.F_RESULT]), dec=s[L.F_DEC], ce=s[L.F_CE], ae=s[L.F_AE],
        zxid=s[L.F_ZXID], zab=s[L.F_ZAB],
    )


@dataclass(frozen=True)
class Channel:
    outbox: Msg | None
    wire: tuple[Msg, ...]
    last: Msg | None


@dataclass(frozen=True)
class World:
    """A whole state, decoded: servers by index, channels by (i, j), links, history."""

    servers: tuple[Server, ...]
    chans: dict[tuple[int, int], Channel]
    links: int
    budget: tuple[int, ...]
    late: int
    hist: tuple[tuple, ...]


def world(state: tuple, n: int) -> World:
    servers, chans, links, budget, late, hist = state
    decoded = {}
    for i in range(n):
        for j in range(n):
            c = chans[i * n + j]
            if i != j and c is not None:
                decoded[(i, j)] = Channel(msg(c[0]), tuple(msg(w) for w in c[1]), msg(c[2]))
    return World(tuple(server(s) for s in servers), decoded, links, tuple(budget), late,
                 tuple(hist))


def zxid(z: int) -> str:
    """A zxid as ZooKeeper logs it: hex of (epoch << 32 | counter)."""
    from zkcheck.model.config import zxid_pair

    if z < 0:
        return str(z)  # -1: no zxid (a new FLE object, an observer's minimum vote)
    epoch, counter = zxid_pair(z)
    return hex(epoch << 32 | counter)
