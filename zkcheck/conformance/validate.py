"""Trace validation: find a model behaviour that explains the events a real election logged.

The observed events of one episode (from its start to the stable leader) are kept as one
ordered stream per server and thread -- the QuorumPeer thread (new election, timeouts,
decisions; plus the harness's launch of a booting server first) and the WorkerReceiver
thread (notifications received from other servers). Only the order inside a stream is
trusted (fle_log's docstring says why). The search explores model transitions; a
transition that is observable must produce exactly the next event of its stream, every
other transition (transmit, connect, process without decision, Zab steps ...) is free.
It succeeds when every event is consumed and the model reaches a stable ensemble under
the real leader; otherwise it reports the first event it could not explain at the
furthest point reached, with the model state there.

Rounds: the model's episode starts every running server at logicalclock 0, the real one
continues its process's clock, so each server's rounds are shifted by the round of its
first election in the episode (a notification's round is its sender's round).
Self-notifications (the loopback copy of a server's own broadcast) have no model step of
their own and are skipped. A logged "Notification time out" is the model's Timeout when
``haveDelivered()`` holds; otherwise ZooKeeper only calls ``connectAll`` (no model step),
so the event is consumed without one exactly when ``have_delivered`` is false.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any

from zkcheck.conformance.fle_log import PEER, RECEIVER, Event
from zkcheck.conformance.predict import Episode, model_zxid, stable_leader
from zkcheck.model.config import ZXID_COUNTER_LIMIT
from zkcheck.model.election import have_delivered
from zkcheck.model.fle import FLEModel
from zkcheck.model.state import (
    F_CLOCK,
    F_STATE,
    F_ZXID,
    STATE_NAMES,
    T_CHANS,
    T_SERVERS,
    unpack_vote,
)

STATE_CODE = {name: code for code, name in enumerate(STATE_NAMES)}


@dataclass(frozen=True)
class Obs:
    """An observable model step or a real event, in comparable form."""

    stream: tuple[int, str]
    kind: str
    data: tuple

    def text(self) -> str:
        sid, _thread = self.stream
        if self.kind == "recv":
            sender, (st, leader, zxid, rnd, pe), mine = self.data
            return (f"server {sid} receives from {sender}: {STATE_NAMES[st]}(leader {leader}, "
                    f"zxid {zxid // ZXID_COUNTER_LIMIT}:{zxid % ZXID_COUNTER_LIMIT}, "
                    f"round {rnd}, peerEpoch {pe}) while {STATE_NAMES[mine]}")
        return f"server {sid} {self.kind} {self.data}"


@dataclass
class Validation:
    explained: bool
    events: int
    consumed: int
    states: int
    first_unexplained: str | None = None
    model_state: Any = None
    reason: str = ""
    skipped: list[str] = field(default_factory=list)

    def text(self) -> str:
        if self.explained:
            return f"explained ({self.events} events, {self.states} states)"
        return (f"NOT explained after {self.consumed}/{self.events} events "
                f"({self.reason}): {self.first_unexplained}")


def _enc(zxid: int) -> int:
    epoch, counter = model_zxid(zxid)
    return epoch * ZXID_COUNTER_LIMIT + counter


def model_first_rounds(episode: Episode) -> dict[int, int]:
    """Round of each server's first election in the episode's model (logicalclock + 1)."""
    m = FLEModel(episode.config())
    init = m.initial_states()[0]
    return {sid: init[T_SERVERS][k][F_CLOCK] + 1 for k, sid in enumerate(m.sids)}


def observed_streams(episode: Episode, events: list[Event], t0: float, t1: float,
                     journal: list) -> tuple[dict[tuple[int, str], list[Obs]], list[str]]:
    """Per-(server, thread) streams of comparable observations for the episode window."""
    parts = episode.participants
    window = [e for e in events if t0 - 0.05 <= e.time <= t1 + 0.05 and e.sid in parts]
    first_round: dict[int, int] = {}
    for e in window:
        if e.kind == "send" and e.sid not in first_round:
            first_round[e.sid] = e.round
    model_first = model_first_rounds(episode)
    offset = {sid: r - model_first.get(sid, 1) for sid, r in first_round.items()}
    streams: dict[tuple[int, str], list[Obs]] = {}
    skipped: list[str] = []
    for entry in journal:
        if entry.kind == "start" and entry.sid in episode.boots_any and t0 - 0.05 <= entry.time:
            streams.setdefault((entry.sid, PEER), []).append(
                Obs((entry.sid, PEER), "boot", ()))
    # per-thread file order (line numbers) is the trusted order
    for e in sorted(window, key=lambda e: (e.sid, e.life, e.line)):
        if e.thread == RECEIVER and e.kind == "notification":
            if e.sender == e.sid:
                continue
            if e.sender not in parts:
                skipped.append(e.short())
                continue
            rnd = e.round - offset.get(e.sender, 0)
            msg = (STATE_CODE[e.state], e.leader, _enc(e.zxid), rnd, e.peer_epoch)
            key = (e.sid, RECEIVER)
            streams.setdefault(key, []).append(
                Obs(key, "recv", (e.sender, msg, STATE_CODE[e.my_state])))
        elif e.thread == PEER and e.kind in ("new_election", "timeout", "decided"):
            key = (e.sid, PEER)
            data: tuple = ()
            if e.kind == "new_election":
                data = (_enc(e.zxid),)
            elif e.kind == "decided":
                data = (STATE_CODE[e.my_state],)
            streams.setdefault(key, []).append(Obs(key, e.kind, data))
    return streams, skipped


def model_observations(m: FLEModel, label: str, pre: tuple, post: tuple) -> list[Obs]:
    """What the real logs would show for this model transition (empty: unobservable)."""
    word, _, arg = label.partition(" ")
    out: list[Obs] = []
    if word == "deliver":
        a, b = (int(x) for x in arg.split("->"))
        i, j = m.index[a], m.index[b]
        msg = unpack_vote(pre[T_CHANS][i * m.n + j][1][0])
        out.append(Obs((b, RECEIVER), "recv", (a, msg, pre[T_SERVERS][j][F_STATE])))
    elif word == "start":
        k = m.index[int(arg)]
        out.append(Obs((int(arg), PEER), "new_election", (post[T_SERVERS][k][F_ZXID],)))
    elif word == "timeout":
        out.append(Obs((int(arg), PEER), "timeout", ()))
    elif word == "boot":
        out.append(Obs((int(arg), PEER), "boot", ()))
    for k, (s0, s1) in enumerate(zip(pre[T_SERVERS], post[T_SERVERS], strict=True)):
        if s0[F_STATE] != s1[F_STATE] and s1[F_STATE] != STATE_CODE["LOOKING"]:
            out.append(Obs((m.sids[k], PEER), "decided", (s1[F_STATE],)))
    return out


def validate(episode: Episode, leader: int, events: list[Event], t0: float, t1: float,
             journal: list, max_states: int = 150_000) -> Validation:
    """Search the episode's model for a behaviour matching the observed streams."""
    streams, skipped = observed_streams(episode, events, t0, t1, journal)
    keys = sorted(streams)
    slot = {key: n for n, key in enumerate(keys)}
    total = sum(len(v) for v in streams.values())
    timeouts = sum(1 for v in streams.values() for o in v if o.kind == "timeout")
    max_round = 1 + max((o.data[1][3] for v in streams.values() for o in v if o.kind == "recv"),
                        default=1)
    m = FLEModel(episode.config(max_round=max(max_round, 2), timeouts=timeouts + 1))
    init = m.initial_states()[0]
    start = (init, (0,) * len(keys))
    seen = {start}
    tie = itertools.count()
    heap = [(0, next(tie), start)]
    best = (0, start)
    while heap and len(seen) < max_states:
        neg, _, (st, pos) = heapq.heappop(heap)
        consumed = -neg
        if consumed == total and stable_leader(m, st) == leader:
            return Validation(True, total, total, len(seen), skipped=skipped)
        moves = list(m.actions(st))
        for key in keys:  # a real timeout with no peer queue empty only calls connectAll
            n = slot[key]
            if key[1] == PEER and pos[n] < len(streams[key]) \
                    and streams[key][pos[n]].kind == "timeout" \
                    and not have_delivered(m, st, m.index[key[0]]):
                npos = pos[:n] + (pos[n] + 1,) + pos[n + 1:]
                node = (st, npos)
                if node not in seen:
                    seen.add(node)
                    if consumed + 1 > best[0]:
                        best = (consumed + 1, node)
                    heapq.heappush(heap, (-(consumed + 1), next(tie), node))
        for label, nxt in moves:
            if label.startswith(("boot ", "restart ")) \
                    and int(label.split()[1]) not in episode.boots_any:
                continue
            obs = model_observations(m, label, st, nxt)
            npos = list(pos)
            ok = True
            for o in obs:
                n = slot.get(o.stream)
                if n is None or npos[n] >= len(streams[o.stream]) \
                        or streams[o.stream][npos[n]] != o:
                    ok = False
                    break
                npos[n] += 1
            if not ok:
                continue
            node = (nxt, tuple(npos))
            if node in seen:
                continue
            seen.add(node)
            c = consumed + len(obs)
            if c > best[0]:
                best = (c, node)
            heapq.heappush(heap, (-c, next(tie), node))
    st, pos = best[1]
    pending = [streams[k][pos[slot[k]]] for k in keys if pos[slot[k]] < len(streams[k])]
    reason = "state budget exhausted" if heap else "no matching model step"
    if not pending:
        first = f"all events matched, but no stable ensemble under leader {leader} was reached"
    else:
        first = "; or ".join(o.text() for o in pending)
    return Validation(False, total, best[0], len(seen), first, m.describe(st), reason,
                      skipped)
