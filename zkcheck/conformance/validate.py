"""Trace validation: find a model behaviour that explains the events a real election logged.

The observed events of one episode (from its start to the stable leader, cut at the
harness's next action) are kept as one ordered stream per server and thread -- the
QuorumPeer thread (new election, broadcasts, timeouts, decisions; plus the harness's
launch of a booting server first) and the WorkerReceiver
thread (notifications received from other servers). Only the order inside a stream is
trusted (fle_log's docstring says why). The search explores model transitions; a
transition that is observable must produce exactly the next event of its stream, every
other transition (transmit, connect, process without decision, Zab steps ...) is free.
It succeeds when every event is consumed and the model reaches a stable ensemble under
the real leader; otherwise it reports the first event it could not explain at the
furthest point reached, with the model state there.

Rounds are absolute: the model starts every up server at its real logicalclock
(``start_clocks``). A replaced election connection ("Connection broken") is the model's
``reconnect`` fault, allowed per pair as often as it was logged. Self-notifications (the
loopback copy of a server's own broadcast) have no model step of their own and are
skipped. A logged "Notification time out" is the model's Timeout when
``haveDelivered()`` holds (its re-broadcast is logged first); otherwise ZooKeeper only
calls ``connectAll`` (no model step), so the event is consumed without one exactly when
``have_delivered`` is false. A receipt's logged "my state" may be the one before the
receiver's state change (``state_read_race``; tried after the plain reduced search,
and in the complete search only when the plain complete one proves that no plain path
exists), and a stale WorkerReceiver reply, which the model cannot produce,
is reported as that known modelling limit, inconclusive (``stale_replies``) -- unless the
model has non-atomic replies (``validate(nonatomic_replies=True)``), which produce them.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from zkcheck.conformance.fle_log import PEER, RECEIVER, Event
from zkcheck.conformance.guide import TimeGuide
from zkcheck.conformance.predict import Episode, model_zxid, stable_leader
from zkcheck.errors import InputError
from zkcheck.model.config import ZXID_COUNTER_LIMIT
from zkcheck.model.election import have_delivered
from zkcheck.model.fle import FLEModel
from zkcheck.model.state import (
    B_CRASH,
    B_RESTART,
    F_STATE,
    F_ZXID,
    STATE_NAMES,
    T_CHANS,
    T_SERVERS,
    unpack_vote,
)

STATE_CODE = {name: code for code, name in enumerate(STATE_NAMES)}
OWN = "own"  # the stream of a server's receipts of its own broadcasts (INFO logs)


@dataclass(frozen=True)
class Obs:
    """An observable model step or a real event, in comparable form."""

    stream: tuple[int, str]
    kind: str
    data: tuple
    time: float | None = field(default=None, compare=False)  # a logged event's stamp

    def text(self) -> str:
        sid, _thread = self.stream
        if self.kind == "recv":
            sender, (st, leader, zxid, rnd, pe), mine = self.data
            return (f"server {sid} receives from {sender}: {STATE_NAMES[st]}(leader {leader}, "
                    f"zxid {zxid // ZXID_COUNTER_LIMIT}:{zxid % ZXID_COUNTER_LIMIT}, "
                    f"round {rnd}, peerEpoch {pe}) while {STATE_NAMES[mine]}")
        if self.kind == "bcast":
            leader, zxid, rnd, pe = self.data
            return (f"server {sid} broadcasts LOOKING(leader {leader}, zxid "
                    f"{zxid // ZXID_COUNTER_LIMIT}:{zxid % ZXID_COUNTER_LIMIT}, round {rnd}, "
                    f"peerEpoch {pe})")
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
    steps: int = 0  # length of the replayed witness
    clocks: dict[int, int] = field(default_factory=dict)  # real start logicalclocks used
    races: int = 0  # receipts logged with the receiver's state before its change
    model: Any = None  # the episode's model (when explained)
    witness: list = field(default_factory=list)  # (label, state) of the replayed path

    def text(self) -> str:
        if self.explained:
            races = (f", {self.races} receipt(s) logged with the state before its change"
                     if self.races else "")
            return (f"explained ({self.events} events, {self.states} states, "
                    f"witness of {self.steps} steps{races})")
        return (f"NOT explained after {self.consumed}/{self.events} events "
                f"({self.reason}): {self.first_unexplained}")


LONG_MIN = 1 << 63
"""An observer's vote is Long.MIN_VALUE in all three fields; the log prints it as
-9223372036854775808 (leader) or 0x8000000000000000 (zxid, peerEpoch)."""


def _min(value: int) -> int:
    """A logged leader or peerEpoch; the observer's minimum as the model's -1."""
    return -1 if abs(value) == LONG_MIN else value


def _enc(zxid: int) -> int:
    if zxid == LONG_MIN:
        return -1
    epoch, counter = model_zxid(zxid)
    return epoch * ZXID_COUNTER_LIMIT + counter


def window_end(t1: float, journal: list) -> float:
    """End of the episode's window: 50 ms after the stable leader was seen (log timestamps
    are truncated to the millisecond), but never past the harness's next action (journal
    entries are written just before the kill/start/write): the harness kills a leader as
    soon as it is stable, and the survivors' "LOOKING" and new election that follow belong
    to the next episode, not to a second round of this one."""
    return min([t1 + 0.05] + [j.time for j in journal if t1 < j.time < t1 + 0.05])


def window_start(t0: float, journal: list) -> float:
    """Start of the episode's window: 50 ms before it was opened (the runner opens a
    crash episode after ``Ensemble.kill`` returns, so the survivors' reactions can come
    first), but never before the harness's last action up to the opening (journaled just
    before it happens; 2 ms for the millisecond log stamps): a line stamped earlier
    precedes that action and belongs to the previous episode -- e.g. a joiner's receipts
    of the ensemble's replies just before the leader is killed (``failover3-repeated`` #5:
    "FOLLOWING(leader 2) while FOLLOWING" of the joiner 3, which the model, starting 3
    FOLLOWING with empty channels, cannot match)."""
    before = [j.time - 0.002 for j in journal if j.time <= t0]
    return max([t0 - 0.05, *before])


def _window(episode: Episode, events: list[Event], t0: float, t1: float,
            start: float | None = None) -> list[Event]:
    """The participants' events of the episode, in per-thread file order (the trusted one);
    ``t1`` is the window's end (``window_end``), ``start`` its start (``window_start``;
    default ``t0`` - 50 ms)."""
    parts = episode.participants
    lo = t0 - 0.05 if start is None else start
    return sorted((e for e in events if lo <= e.time < t1 and e.sid in parts),
                  key=lambda e: (e.sid, e.life, e.line))


def start_clocks(episode: Episode, events: list[Event], t0: float, t1: float,
                 start: float | None = None) -> dict[int, int]:
    """Real logicalclock of each server that is up when the episode opens.

    Every election starts with ``logicalclock + 1`` and a broadcast of that round, before
    any jump to a peer's round, so the first "Sending Notification" of a server's election
    thread in the window names its clock + 1. A booting server is a fresh process (clock 0,
    as in the model), so only up servers are read; 0 is the model's default and omitted.
    """
    out: dict[int, int] = {}
    own: dict[int, int] = {}  # INFO logs: the receipt of its own first broadcast instead
    for e in _window(episode, events, t0, t1, start):
        if e.kind == "send" and e.thread == PEER and e.sid in episode.up and e.sid not in out:
            out[e.sid] = e.round - 1
        if e.kind == "notification" and e.sender == e.sid and e.state == "LOOKING" \
                and e.sid in episode.up and e.sid not in own:
            own[e.sid] = e.round - 1
    out = own | out
    return {sid: clock for sid, clock in out.items() if clock > 0}


def observed_streams(episode: Episode, events: list[Event], t0: float, t1: float,
                     journal: list, start: float | None = None,
                     own_copies: frozenset[int] = frozenset(),
                     own_before: dict[int, list[int]] | None = None
                     ) -> tuple[dict[tuple[int, str], list[Obs]], list[str]]:
    """Per-(server, thread) streams of comparable observations for the episode window.
    Rounds are the real ones: the model starts each server at its real clock.

    A server in ``own_copies`` (logged at INFO: no "Sending Notification") has its
    broadcasts observed as the receipts of its own copies, one per broadcast and in their
    order (QuorumCnxManager queues a message to itself directly into its receive queue),
    on a stream of their own (``OWN``): their order against its election thread's lines
    is not known. ``own_before`` (filled when given): for each such server, how many own
    copies it logged before each of its receipts."""
    parts = episode.participants
    streams: dict[tuple[int, str], list[Obs]] = {}
    skipped: list[str] = []
    for entry in journal:
        if entry.kind == "start" and entry.sid in episode.boots_any and t0 - 0.05 <= entry.time:
            streams.setdefault((entry.sid, PEER), []).append(
                Obs((entry.sid, PEER), "boot", (), entry.time))
    group: dict[int, set[int]] = {}  # sid -> recipients of its current broadcast
    for e in _window(episode, events, t0, t1, start):
        if e.thread == PEER and e.kind == "send":
            # sendNotifications logs one line per voter (itself included): one broadcast
            key = (e.sid, PEER)
            data = (_min(e.leader), _enc(e.zxid), e.round, _min(e.peer_epoch))
            obs = streams.setdefault(key, [])
            seen = group.get(e.sid)
            if seen is None or e.recipient in seen or not obs or obs[-1].data != data:
                obs.append(Obs(key, "bcast", data, e.time))
                group[e.sid] = seen = set()
            seen.add(e.recipient)
            continue
        if e.thread == PEER and e.kind in ("state", "new_election", "timeout", "decided"):
            group.pop(e.sid, None)
        if e.thread == RECEIVER and e.kind == "notification":
            if e.sender == e.sid:
                if e.sid in own_copies and e.state == "LOOKING":
                    streams.setdefault((e.sid, OWN), []).append(Obs(
                        (e.sid, OWN), "bcast", (e.leader, _enc(e.zxid), e.round, e.peer_epoch),
                        e.time))
                continue
            if e.sender not in parts:
                skipped.append(e.short())
                continue
            msg = (STATE_CODE[e.state], _min(e.leader), _enc(e.zxid), e.round,
                   _min(e.peer_epoch))
            key = (e.sid, RECEIVER)
            if own_before is not None and e.sid in own_copies:
                own_before.setdefault(e.sid, []).append(len(streams.get((e.sid, OWN), ())))
            streams.setdefault(key, []).append(
                Obs(key, "recv", (e.sender, msg, STATE_CODE[e.my_state]), e.time))
        elif e.thread == PEER and e.kind == "state" and e.my_state == "LOOKING":
            key = (e.sid, PEER)
            streams.setdefault(key, []).append(Obs(key, "looking", (), e.time))
        elif e.thread == PEER and e.kind in ("new_election", "timeout", "decided"):
            key = (e.sid, PEER)
            data: tuple = ()
            if e.kind == "new_election":
                data = (_enc(e.zxid),)
            elif e.kind == "decided":
                data = (STATE_CODE[e.my_state],)
            streams.setdefault(key, []).append(Obs(key, e.kind, data, e.time))
    return streams, skipped


def keep_returns(m: FLEModel, streams: dict[tuple[int, str], list[Obs]]
                 ) -> dict[tuple[int, str], list[Obs]]:
    """Keep a logged "LOOKING" only where it is a return to LOOKING from a role (after a
    decision, or first thing for a server the model starts in a role): QuorumPeer logs the
    line at every entry to its LOOKING case, including the first one of a process and of a
    server already LOOKING when the episode opens, which have no model step."""
    init = m.initial_states()[0][T_SERVERS]
    out: dict[tuple[int, str], list[Obs]] = {}
    for key, obs in streams.items():
        if key[1] != PEER:
            out[key] = obs
            continue
        in_role = init[m.index[key[0]]][F_STATE] != STATE_CODE["LOOKING"]
        kept: list[Obs] = []
        for o in obs:
            if o.kind == "decided":
                in_role = True
            elif o.kind == "looking":
                if not in_role:
                    continue
                in_role = False
            kept.append(o)
        if kept:
            out[key] = kept
    return out


def model_observations(m: FLEModel, label: str, pre: tuple, post: tuple) -> list[Obs]:
    """What the real logs would show for this model transition (empty: unobservable)."""
    word, _, arg = label.partition(" ")
    out: list[Obs] = []
    if word == "deliver":
        a, b = (int(x) for x in arg.split("->"))
        i, j = m.index[a], m.index[b]
        msg = unpack_vote(pre[T_CHANS][i * m.n + j][1][0])
        if m.voter[i] or not m.voter[j]:  # a voter answers an observer without logging it
            out.append(Obs((b, RECEIVER), "recv", (a, msg, pre[T_SERVERS][j][F_STATE])))
    elif word == "start":  # the log names the proposal's zxid: an observer's is the minimum
        k = m.index[int(arg)]
        zxid = post[T_SERVERS][k][F_ZXID] if m.voter[k] else -1
        out.append(Obs((int(arg), PEER), "new_election", (zxid,)))
    elif word == "timeout":
        out.append(Obs((int(arg), PEER), "timeout", ()))
    elif word == "boot":
        out.append(Obs((int(arg), PEER), "boot", ()))
    if word in ("start", "process", "timeout") and post[T_CHANS] is not pre[T_CHANS]:
        k = m.index[int(arg)]  # the step broadcast k's vote (election.broadcast)
        if m.bcast_chans[k]:
            _st, *vote = unpack_vote(post[T_CHANS][m.bcast_chans[k][0]][0])
            # lookForLeader logs "Notification time out" after its re-broadcast
            out.insert(len(out) - (word == "timeout"),
                       Obs((int(arg), PEER), "bcast", tuple(vote)))
    for k, (s0, s1) in enumerate(zip(pre[T_SERVERS], post[T_SERVERS], strict=True)):
        if s0[F_STATE] != s1[F_STATE]:
            if s1[F_STATE] != STATE_CODE["LOOKING"]:
                out.append(Obs((m.sids[k], PEER), "decided", (s1[F_STATE],)))
            else:
                out.append(Obs((m.sids[k], PEER), "looking", ()))
    return out


def state_read_race(model: Obs, logged: Obs, prev: int) -> bool:
    """Does the logged observation match the model's? A receipt also matches when only its
    "my state" differs and that is the receiver's state before its latest state change
    (``prev`` = that state + 1), no notification having been delivered to it since.

    WorkerReceiver reads ``self.getPeerState()`` once for its "Notification: my state:"
    line and again for its branch (``recvqueue.offer`` when LOOKING, else the reply with
    the current vote; FastLeaderElection.java, WorkerReceiver.run, 3.8.0); the QuorumPeer
    thread can change the state between the two reads. The behaviour is the second read's,
    i.e. the model's ``deliver`` under the new state; the log shows the first. Only the
    one receipt in process at the change can straddle it, hence one per change."""
    if model == logged:
        return True
    return (model.kind == logged.kind == "recv" and model.stream == logged.stream
            and model.data[:2] == logged.data[:2] and prev == logged.data[2] + 1)


def stale_replies(streams: dict[tuple[int, str], list[Obs]]
                  ) -> dict[tuple[tuple[int, str], int], str]:
    """Receipts that are stale WorkerReceiver replies, with the log evidence: (receiver
    stream, index) -> text. The known modelling limit of the atomic reply (docs/semantics.md
    §5.1); the model with ``Bounds.nonatomic_replies`` produces such replies.

    A WorkerReceiver that is not LOOKING answers a LOOKING sender with
    ``self.getCurrentVote()`` and a fresh ``self.getPeerState()`` read, queued later
    (FastLeaderElection.java, WorkerReceiver.run, 3.8.0); the current vote changes only
    when ``lookForLeader`` returns (QuorumPeer.run). Meanwhile the QuorumPeer thread can
    leave its role, go LOOKING and broadcast its new round, so the reply carries the
    role's vote and old round, and either the LOOKING state or a role state after the new
    broadcast. A model ``deliver`` is one atomic step: it builds and queues the reply from
    the state it reads, before any later step of the sender, so it produces neither
    (unless ``Bounds.nonatomic_replies`` splits it).

    Receipt r at R from S with vote (leader, zxid, round, peerEpoch) qualifies only when
    all of these hold in the logs: (1) S's WorkerReceiver logged a LOOKING notification
    from R "while FOLLOWING/LEADING" (the reply's trigger); (2) S's QuorumPeer thread
    logged a return to LOOKING followed by a broadcast of a round newer than r's (at INFO:
    a return, and an own copy of a newer round); (3) S broadcast r's vote nowhere in the
    window; and (4) either r says LOOKING (the state read
    after the change), or r says FOLLOWING/LEADING and R's WorkerReceiver logged S's
    LOOKING vote of that newer round before r (the reply queued after the broadcast), the
    role of r being the one S logged the trigger in."""
    looking = STATE_CODE["LOOKING"]
    out: dict[tuple[tuple[int, str], int], str] = {}
    for (rid, thread), obs in streams.items():
        if thread != RECEIVER:
            continue
        for idx, o in enumerate(obs):
            sender, (st, leader, zxid, rnd, pe), _mine = o.data
            triggers = [t for t in streams.get((sender, RECEIVER), [])
                        if t.data[0] == rid and t.data[1][0] == looking
                        and t.data[2] != looking]
            peer = streams.get((sender, PEER), [])
            own = streams.get((sender, OWN), [])  # INFO: broadcasts seen as own copies
            returns = [k for k, x in enumerate(peer) if x.kind == "looking"]
            newer = next((x.data[2] for k, x in enumerate(peer) if x.kind == "bcast"
                          and returns and k > returns[0] and x.data[2] > rnd), None)
            if newer is None and returns:  # an own copy's order against "LOOKING" is
                # unknown, but a round newer than the role's is broadcast after the return
                newer = next((x.data[2] for x in own if x.data[2] > rnd), None)
            sent = any(x.kind == "bcast" and x.data == (leader, zxid, rnd, pe)
                       for x in peer + own)
            if not triggers or newer is None or sent:
                continue
            if st != looking and (all(t.data[2] != st for t in triggers) or not any(
                    x.data[0] == sender and x.data[1][0] == looking and x.data[1][3] > rnd
                    for x in obs[:idx])):
                continue
            role = STATE_NAMES[st if st != looking else triggers[0].data[2]]
            out[((rid, RECEIVER), idx)] = (
                f"{sender}'s reply to {rid}'s LOOKING notification received while {role}, "
                f"built from its role vote (round {rnd}) after it went LOOKING and "
                f"broadcast round {newer}" + (" (state read after the change)"
                                             if st == looking else
                                             f"; {rid} logged that broadcast first"))
    return out


def link_breaks(episode: Episode, events: list[Event], t0: float, t1: float,
                start: float | None = None) -> dict[tuple[int, int], int]:
    """Election connections between participants that broke in the window: (smaller sid,
    larger sid) -> the larger count of its two sides' "Connection broken" lines.

    When a connection is replaced (QuorumCnxManager's handshake race), the old
    RecvWorker's read fails and logs that line, and the new SendWorker re-sends
    ``lastMessageSent`` when its queue is empty (SendWorker.run), so a peer can receive
    the same notification twice. The model's ``reconnect`` produces exactly that; its
    budget is the total, and only these pairs may take it."""
    seen: dict[tuple[int, int], int] = {}
    for e in _window(episode, events, t0, t1, start):
        if e.kind == "link_break" and e.sender in episode.participants:
            seen[(e.sid, e.sender)] = seen.get((e.sid, e.sender), 0) + 1
    pairs = {(min(k), max(k)) for k in seen}
    return {(a, b): max(seen.get((a, b), 0), seen.get((b, a), 0)) for a, b in sorted(pairs)}


def wire_capacity(streams: dict[tuple[int, str], list[Obs]]) -> int:
    """Messages that may be in flight per ordered pair: as many as the receiver logs from
    that sender. A SendWorker writes each queued message to the socket at once, so a real
    wire holds every message not read yet; the model's default of 1 would make a sender
    that broadcasts twice before the first copy is read overwrite a message the receiver
    logs (a false "no matching model step"). Messages never logged are pruned anyway."""
    counts: dict[tuple[int, int], int] = {}
    for (sid, thread), obs in streams.items():
        if thread == RECEIVER:
            for o in obs:
                counts[(sid, o.data[0])] = counts.get((sid, o.data[0]), 0) + 1
    return max(counts.values(), default=1)


def episode_model(episode: Episode, clocks: dict[int, int], max_round: int,
                  timeouts: int, reconnects: int = 0, wire_capacity: int = 1,
                  variant: Any = None, nonatomic_replies: bool = False) -> FLEModel:
    """The episode's model with every up server at its real logicalclock (``InputError``
    when a round is beyond what the model represents); ``nonatomic_replies``: the
    WorkerReceiver's replies as steps of their own (``Bounds.nonatomic_replies``)."""
    base = episode.config(max_round=max_round, timeouts=timeouts, reconnects=reconnects,
                          wire_capacity=wire_capacity)
    if nonatomic_replies:
        base = replace(base, bounds=replace(base.bounds, nonatomic_replies=True))
    rounds = dict(base.rounds) | clocks
    config = replace(base, rounds=tuple(sorted(rounds.items())))
    if variant is not None:
        config = replace(config, variant=variant)
    config.validate()
    return FLEModel(config)


class _Search:
    """Best-first search over (model state, per-stream positions).

    Order: with ``guided`` (log stamps known), nodes with fewer events matched ahead of
    the stamp order first (``TimeGuide``); then most events consumed first; among equals,
    the newest node first (depth-first
    through free steps, so one interleaving is followed to the next event instead of all
    of them breadth-first); ties inside one expansion prefer steps that are observable.
    Pruning (sound: it removes only nodes from which no explanation exists): a message
    transmitted onto the wire A->B must be the next one B logs from A (the wire is FIFO and
    every logged receipt must be matched), unless B logs nothing more from A; a server out
    of LOOKING with no logged return to it cannot still owe a receipt "while LOOKING".
    Nothing else is pruned in the complete search, so its exhausted queue proves that no
    model path matches; the reduced search (``successors(reduced=True)``) runs first.
    """

    def __init__(self, episode: Episode, leader: int | None, m: FLEModel,
                 streams: dict[tuple[int, str], list[Obs]],
                 broken: dict[tuple[int, int], int] | None = None,
                 races: bool = False, own_copies: frozenset[int] = frozenset(),
                 unobserved: frozenset[int] = frozenset()) -> None:
        self.episode, self.leader, self.m, self.streams = episode, leader, m, streams
        # servers whose broadcasts are observed as receipts of their own copies (INFO logs)
        self.own_copies = own_copies
        self.unobserved = unobserved  # servers without a log: none of their steps is seen
        # servers whose process ended in the episode: a last own copy may be missing
        self.cut_short: frozenset[int] = frozenset()
        # sid -> own copies logged before each of its receipts (``own_copies_due``)
        self.own_before: dict[int, list[int]] = {}
        self.allow_races = races  # match receipts by ``state_read_race`` too
        self.guide: TimeGuide | None = None  # ranks nodes by the logged stamps (``guided``)
        self.keys = sorted(streams)
        # reconnects per logged broken pair, counted in extra slots after the streams'
        # positions (label of the model: larger sid first)
        self.broken = {f"reconnect {b}-{a}": (len(self.keys) + k, count)
                       for k, ((a, b), count) in enumerate(sorted((broken or {}).items()))}
        self.slot = {key: n for n, key in enumerate(self.keys)}
        self.total = sum(len(v) for v in streams.values())
        self.races = 0  # receipts the replayed witness matched by ``state_read_race``
        self.pairs = [(sid, self.slot[(sid, RECEIVER)], self.slot.get((sid, PEER)))
                      for sid, thread in self.keys if thread == RECEIVER]
        # one more slot per receiving server after those: its state before its latest
        # state change + 1 while no notification was delivered to it since, else 0 (the
        # one receipt that may carry the earlier state read, see ``state_read_race``)
        base = len(self.keys) + len(self.broken)
        self.race = {sid: base + k for k, (sid, _r, _p) in enumerate(self.pairs)} \
            if races else {}
        # (receiver, sender) -> [(index in the receiver's stream, message)]
        self.from_seq: dict[tuple[int, int], list[tuple[int, tuple]]] = {}
        for (sid, thread), obs in streams.items():
            if thread == RECEIVER:
                for idx, o in enumerate(obs):
                    self.from_seq.setdefault((sid, o.data[0]), []).append((idx, o.data[1]))

    def guided(self, window: float) -> None:
        """Rank nodes by the logs' timestamps first (``TimeGuide``; order only): matched
        events stamped more than ``window`` s after a pending one count against a node."""
        self.guide = TimeGuide(
            [(self.slot[key], [o.time for o in self.streams[key]]) for key in self.keys
             if key[1] != OWN and all(o.time is not None for o in self.streams[key])],
            window)

    def observations(self, label: str, pre: tuple, post: tuple) -> list[Obs]:
        """``model_observations``, a broadcast of a server in ``own_copies`` observed on its
        OWN stream (the receipt of its own copy) instead of its election thread's."""
        return [Obs((o.stream[0], OWN), o.kind, o.data)
                if o.kind == "bcast" and o.stream[0] in self.own_copies else o
                for o in model_observations(self.m, label, pre, post)
                if o.stream[0] not in self.unobserved]

    def unlogged_last(self, o: Obs, consumed: int) -> bool:
        """A broadcast of a server whose process ended in the episode (``cut_short``) after
        every own copy it logged: its copy was never logged, so it is not matched. (Its
        earlier broadcasts are, against the own copies it did log.)"""
        return o.kind == "bcast" and o.stream[0] in self.cut_short \
            and consumed >= len(self.streams.get(o.stream, ()))

    def own_copies_due(self, label: str, pos: tuple) -> bool:
        """Sound pruning (INFO logs): a receipt that B's WorkerReceiver logged after its
        k-th own copy needs B's k-th broadcast first. The copy entered B's receive queue
        when B broadcast (QuorumCnxManager queues a message to itself directly), and the
        receipt entered that FIFO queue after it and is handled (``deliver``) later."""
        b = int(label.rpartition("->")[2])
        before = self.own_before.get(b)
        if before is None:
            return True
        p = pos[self.slot[(b, RECEIVER)]] if (b, RECEIVER) in self.slot else len(before)
        need = before[p] if p < len(before) else 0
        return need == 0 or pos[self.slot[(b, OWN)]] >= need

    def _wire(self, st: tuple, pos: tuple, label: str) -> tuple[bool, bool]:
        """After ``transmit A->B`` (or a connect's re-send of ``last``, label ``A->B``):
        (the wire is consistent with what B still logs from A, the message just put on it
        is one B logs)."""
        a, b = (int(x) for x in label.rpartition(" ")[2].split("->"))
        m = self.m
        if not m.voter[m.index[a]]:  # voters do not log an observer's notifications
            return True, True
        wire = st[T_CHANS][m.index[a] * m.n + m.index[b]][1]
        n = self.slot.get((b, RECEIVER))
        p = pos[n] if n is not None else 0
        rest = [msg for idx, msg in self.from_seq.get((b, a), ()) if idx >= p]
        ok = all(unpack_vote(w) == r for w, r in zip(wire, rest, strict=False))
        return ok, ok and len(wire) <= len(rest)

    def drops_logged(self, st: tuple, nxt: tuple, pos: tuple) -> bool:
        """Sound pruning: the step overwrote a queued message A->B (the 1-slot send queue)
        that B still logs from A, and A can never queue it again -- a LOOKING vote's round
        and, within a round, its proposal only move forward, a vote of a role is not a
        LOOKING one, and a later reconnect only re-sends ``last``. Off while a crash or
        restart can reset a process's round."""
        if st[3][B_CRASH] or st[3][B_RESTART]:
            return False
        m = self.m
        looking = STATE_CODE["LOOKING"]
        for ci, (c, d) in enumerate(zip(st[T_CHANS], nxt[T_CHANS], strict=True)):
            if c is None or d[0] is None or d[0] == c[0]:
                continue
            a, b = m.sids[ci // m.n], m.sids[ci % m.n]
            n = self.slot.get((b, RECEIVER))
            p = pos[n] if n is not None else 0
            rest = [msg for idx, msg in self.from_seq.get((b, a), ()) if idx >= p][len(d[1]):]
            if c[0] is not None and c[0] != d[2] and unpack_vote(c[0]) in rest:
                return True
            # B still logs a second copy of ``last`` (a reconnect's re-send), but that
            # needs an empty queue, and the newer message now queued would come first
            if rest and d[2] is not None and rest[0] == unpack_vote(d[2]) \
                    and rest[0][0] == looking and rest[0] != unpack_vote(d[0]):
                return True
        return False

    def _useful_reconnect(self, st: tuple, nxt: tuple, pos: tuple, a: int, b: int) -> bool:
        """Reduced search only: a reconnect that loses nothing in flight, re-sends at least
        one duplicate its receiver logs next, and, if it is the pair's last one, leaves no
        logged duplicate on the pair for later (a heuristic). ``pos`` is after the step."""
        m, resent_due = self.m, False
        slot, count = self.broken[f"reconnect {a}-{b}"]
        last_one = pos[slot] >= count
        for x, y in ((a, b), (b, a)):
            ci = m.index[x] * m.n + m.index[y]
            flight = st[T_CHANS][ci][1]
            if flight and (self.guide is None or nxt[T_CHANS][ci][1] != flight):
                # lost in flight; with the stamps ranking the nodes (``guided``) a wire
                # holding just ``last`` may be replaced too: it gets the message again
                return False
            n = self.slot.get((y, RECEIVER))
            p = pos[n] if n is not None else 0
            rest = [msg for idx, msg in self.from_seq.get((y, x), ()) if idx >= p]
            last = st[T_CHANS][ci][2]
            due = bool(rest) and last is not None and rest[0] == unpack_vote(last)
            resent = bool(nxt[T_CHANS][ci][1]) and not flight
            # a repeated role vote is a reply to each notification, not a re-send
            later = any(rest[k] == rest[k + 1] and rest[k][0] == STATE_CODE["LOOKING"]
                        for k in range(len(rest) - 1))
            if (due and not resent and not flight) or (last_one and later and not due):
                return False
            resent_due = resent_due or (due and resent)
        return resent_due

    def _own_repeat(self, sid: int, pos: tuple, next_only: bool) -> bool:
        """INFO logs: whether the server's next own copy still to be matched
        (``next_only``) or any of them repeats the one before it: a re-broadcast, which
        only a real Timeout step produces. (The next one: its logged timeout is better not
        taken as connectAll-only at once; none ahead: all its logged timeouts are
        connectAll-only.)"""
        n = self.slot.get((sid, OWN))
        if n is None:
            return False
        obs, p = self.streams[(sid, OWN)], pos[n]
        stop = min(p + 1, len(obs)) if next_only else len(obs)
        return any(obs[k] == obs[k - 1] for k in range(max(p, 1), stop))

    def dead(self, st: tuple, pos: tuple) -> bool:
        """Sound pruning: a server that is no longer LOOKING and logs no return to LOOKING
        can never match a receipt it logged "while LOOKING" (except the next one, when it
        left LOOKING since its last delivery: ``state_read_race``)."""
        m = self.m
        looking = STATE_CODE["LOOKING"]
        for sid, recv_n, peer_n in self.pairs:
            if st[T_SERVERS][m.index[sid]][F_STATE] == looking:
                continue
            if peer_n is not None and any(o.kind == "looking"
                                          for o in self.streams[(sid, PEER)][pos[peer_n]:]):
                continue
            rest = self.streams[(sid, RECEIVER)][pos[recv_n]:]
            if sid in self.race and pos[self.race[sid]] == looking + 1:
                rest = rest[1:]
            if any(o.data[2] == looking for o in rest):
                return True
        return False

    def race_after(self, st: tuple, nxt: tuple, label: str, npos: list[int]) -> None:
        """Update the race slots for a step from ``st`` to ``nxt`` (in place)."""
        m = self.m
        if label.startswith("deliver "):
            b = int(label.rpartition("->")[2])
            if b in self.race:
                npos[self.race[b]] = 0
        roles = (STATE_CODE["LOOKING"], STATE_CODE["FOLLOWING"], STATE_CODE["LEADING"])
        for k, (s0, s1) in enumerate(zip(st[T_SERVERS], nxt[T_SERVERS], strict=True)):
            sid = m.sids[k]
            if s0[F_STATE] != s1[F_STATE] and sid in self.race:
                npos[self.race[sid]] = (s0[F_STATE] + 1 if s0[F_STATE] in roles
                                        and s1[F_STATE] in roles else 0)

    def distance(self, st: tuple, pos: tuple) -> int:
        """Guidance only (it orders, never prunes): how far each stream's next logged
        receipt is from being deliverable -- 0 at the head of its wire, 1 queued in the
        sender's outbox, 2 not produced yet."""
        m, chans, h = self.m, st[T_CHANS], 0
        for key in self.keys:
            if key[1] != RECEIVER:
                continue
            obs = self.streams[key]
            p = pos[self.slot[key]]
            if p >= len(obs):
                continue
            a, msg, _mine = obs[p].data
            c = chans[m.index[a] * m.n + m.index[key[0]]]
            if c[1] and unpack_vote(c[1][0]) == msg:
                continue
            h += 1 if c[0] is not None and unpack_vote(c[0]) == msg else 2
        return h

    def successors(self, st: tuple, pos: tuple, reduced: bool = False
                   ) -> list[tuple[str, tuple, tuple, int]]:
        """(label, state, positions, events consumed) of the steps allowed from a node.

        ``reduced`` collapses invisible steps into one canonical order (a heuristic: it
        drops paths, never adds any): an invisible transmit of a message that its receiver
        logs next from that sender, else a publish of a decided result, else a dequeue
        (``process``) without a decision is taken alone and at once, as a real election
        thread does; transmits of messages never logged as received are not taken. A
        logged connectAll-only timeout goes first of all (it changes no state), but with
        ``guided``, while a re-broadcast (a repeated own copy) is still to come, only once
        its stamp is due: a server not connected yet when the search reaches its logged
        timeout (at INFO its place among the broadcasts is not logged) may have timed out
        with that re-broadcast much later."""
        m, streams, slot = self.m, self.streams, self.slot
        out: list[tuple[str, tuple, tuple, int]] = []
        for key in self.keys:  # a real timeout with no peer queue empty only calls connectAll
            n = slot[key]
            if key[1] == PEER and pos[n] < len(streams[key]) \
                    and streams[key][pos[n]].kind == "timeout" \
                    and not have_delivered(m, st, m.index[key[0]]) \
                    and not (reduced and self.guide and not self.guide.due(n, pos)
                             and self._own_repeat(key[0], pos, next_only=False)):
                out.append(("connectAll " + str(key[0]), st,
                            pos[:n] + (pos[n] + 1,) + pos[n + 1:], 1))
        for label, nxt in m.actions(st):
            if label.startswith(("boot ", "restart ")) \
                    and int(label.split()[1]) not in self.episode.boots_any:
                continue  # down for the whole episode
            if label.startswith("deliver ") and not self.own_copies_due(label, pos):
                continue
            obs = self.observations(label, st, nxt)
            npos = list(pos)
            if label.startswith("reconnect "):
                n, count = self.broken.get(label, (0, 0))
                if pos[n] >= count:
                    continue  # no (further) "Connection broken" logged for this pair
                npos[n] += 1
            ok = True
            used = 0
            for o in obs:
                n = slot.get(o.stream)
                if self.unlogged_last(o, npos[n] if n is not None else 0):
                    continue
                used += 1
                if n is None or npos[n] >= len(streams[o.stream]) \
                        or not state_read_race(o, streams[o.stream][npos[n]],
                                               npos[self.race[o.stream[0]]]
                                               if o.kind == "recv" and self.race else 0):
                    ok = False
                    break
                npos[n] += 1
            if not ok:
                continue
            self.race_after(st, nxt, label, npos)
            tpos = tuple(npos)
            if nxt[T_CHANS] is not st[T_CHANS] and not label.startswith("transmit ") \
                    and self.drops_logged(st, nxt, tpos):
                continue
            if label.startswith("transmit "):
                ok, logged = self._wire(nxt, tpos, label)
                if not ok or (reduced and not logged):
                    continue
            elif label.startswith(("connect ", "reconnect ")):  # re-sends of ``last``
                a, b = label.partition(" ")[2].split("-")
                wires = [self._wire(nxt, tpos, f"{x}->{y}") for x, y in ((a, b), (b, a))]
                if not all(ok for ok, _logged in wires):
                    continue
                if reduced and label.startswith("re") and not self._useful_reconnect(
                        st, nxt, tpos, int(a), int(b)):
                    continue
            out.append((label, nxt, tpos, used))
        if reduced:
            # a logged timeout whose re-broadcast is not logged first is connectAll-only:
            # it changes nothing, but a transmit by that server would make it impossible
            for word in ("connectAll ", "transmit ", "publish ", "process "):
                eager = next((x for x in out if x[0].startswith(word)
                              and (not x[3] or word == "connectAll ")
                              and not (word == "connectAll " and self._own_repeat(
                                  int(x[0].split()[1]), pos, next_only=True))), None)
                if eager is not None:
                    return [eager]
        return out

    def run(self, max_states: int, reduced: bool = False
            ) -> tuple[list[tuple[str, tuple, tuple]] | None, tuple[int, tuple], int, bool]:
        """(witness path or None, furthest (consumed, node), nodes seen, queue exhausted)."""
        init = self.m.initial_states()[0]
        start = (init, (0,) * (len(self.keys) + len(self.broken) + len(self.race)))
        parent: dict[tuple, tuple[tuple, str] | None] = {start: None}
        tie = itertools.count()
        heap = [(0, 0, 0, 0, start)]
        late = self.guide.late if self.guide is not None else (lambda _pos: 0)
        best = (0, start)
        while heap and len(parent) < max_states:
            _late, neg, _, _, node = heapq.heappop(heap)
            st, pos = node
            consumed = -neg
            if consumed == self.total and (self.leader is None
                                           or stable_leader(self.m, st) == self.leader):
                path = []
                cur: tuple | None = node
                while cur is not None:
                    link = parent[cur]
                    path.append((link[1] if link else "", cur[0], cur[1]))
                    cur = link[0] if link else None
                return path[::-1], best, len(parent), False
            succ = self.successors(st, pos, reduced)
            # push observable steps last so that they are popped first among equals
            succ.sort(key=lambda x: x[3])
            for label, nxt, npos, used in succ:
                child = (nxt, npos)
                if child in parent or (nxt is not st and self.dead(nxt, npos)):
                    continue
                parent[child] = (node, label)
                c = consumed + used
                if c > best[0]:
                    best = (c, child)
                heapq.heappush(heap, (late(npos), -c, self.distance(nxt, npos), -next(tie),
                                      child))
        return None, best, len(parent), not heap

    def replay(self, path: list[tuple[str, tuple, tuple]]) -> None:
        """Re-run a witness from the initial state: every step must be an enabled model
        transition (or a logged connectAll-only timeout) and the steps' observations must
        be exactly the logged streams; raises AssertionError otherwise (a validator bug)."""
        m = self.m
        st = m.initial_states()[0]
        assert path[0][1] == st
        got: dict[tuple[int, str], list[Obs]] = {key: [] for key in self.keys}
        prev: dict[int, int] = {}  # the race slots, recomputed independently
        roles = (STATE_CODE["LOOKING"], STATE_CODE["FOLLOWING"], STATE_CODE["LEADING"])
        for label, nxt, _pos in path[1:]:
            if label.startswith("connectAll "):
                sid = int(label.split()[1])
                assert nxt == st and not have_delivered(m, st, m.index[sid])
                got[(sid, PEER)].append(Obs((sid, PEER), "timeout", ()))
                continue
            succ = dict(m.actions(st))
            assert succ.get(label) == nxt, f"replay: {label} is not a model step here"
            for o in self.observations(label, st, nxt):
                if self.unlogged_last(o, len(got.get(o.stream, ()))):
                    continue
                done = got.setdefault(o.stream, [])
                logged = self.streams.get(o.stream, [])
                if self.race and o.kind == "recv" and len(done) < len(logged) \
                        and logged[len(done)] != o \
                        and state_read_race(o, logged[len(done)], prev.get(o.stream[0], 0)):
                    o = logged[len(done)]  # the logged (earlier) state read
                    self.races += 1
                done.append(o)
            if label.startswith("deliver "):
                prev[int(label.rpartition("->")[2])] = 0
            for k, (s0, s1) in enumerate(zip(st[T_SERVERS], nxt[T_SERVERS], strict=True)):
                if s0[F_STATE] != s1[F_STATE]:
                    prev[m.sids[k]] = (s0[F_STATE] + 1 if s0[F_STATE] in roles
                                       and s1[F_STATE] in roles else 0)
            st = nxt
        assert got == self.streams, "replay: the witness does not produce the logged events"
        assert stable_leader(m, st) == self.leader, "replay: no stable ensemble at the end"


def _receipt_time(episode: Episode, events: list[Event], t0: float, t1: float,
                  start: float, key: tuple[int, str], index: int) -> float:
    """Log time of the ``index``-th receipt of stream ``key`` (as ``observed_streams``
    counts them)."""
    found = [e.time for e in _window(episode, events, t0, t1, start)
             if e.sid == key[0] and e.thread == RECEIVER and e.kind == "notification"
             and e.sender != e.sid and e.sender in episode.participants]
    return found[index]


def _prefix_explained(episode: Episode, events: list[Event], t0: float, t1: float,
                      start: float, journal: list, m: FLEModel, cut: float,
                      max_states: int, own_copies: frozenset[int] = frozenset(),
                      unobserved: frozenset[int] = frozenset()) -> bool:
    """Does the model match every event logged before ``cut`` (2 ms before a stale reply's
    receipt, for the millisecond stamps)? None of them can be an effect of that receipt,
    so a failure there is a different unexplained event, which the stale reply must not
    hide: only then is the episode put down to the known modelling limit. At INFO the own
    copies are not matched here: a server's own copy can be logged after the cut while
    another server's receipt of that broadcast is logged before it."""
    streams, _ = observed_streams(episode, events, t0, min(t1, cut - 0.002), journal, start,
                                  own_copies)
    streams = {k: v for k, v in keep_returns(m, streams).items() if k[1] != OWN}
    broken = link_breaks(episode, events, t0, min(t1, cut - 0.002), start)
    search = _Search(episode, None, m, streams, broken, races=True, own_copies=own_copies,
                     unobserved=unobserved)
    search.cut_short = own_copies
    for reduced in (True, False):
        if search.run(max_states, reduced=reduced)[0] is not None:
            return True
    return False


def validate(episode: Episode, leader: int | None, events: list[Event], t0: float, t1: float,
             journal: list, max_states: int = 150_000,
             own_copies: frozenset[int] = frozenset(),
             unobserved: frozenset[int] = frozenset(),
             variant: Any = None, cut_short: frozenset[int] = frozenset(),
             nonatomic_replies: bool = False, time_window: float | None = None,
             reduced_states: int | None = None) -> Validation:
    """Search the episode's model for a behaviour matching the observed streams; an
    explanation is replayed step by step before it is reported. ``own_copies``: servers
    logged at INFO, whose broadcasts (DEBUG "Sending Notification" lines) are observed as
    their receipts of their own copies (``observed_streams``); ``unobserved``: servers
    without a log, taking part with no step observed; ``cut_short``: servers (at INFO)
    whose process ended during the episode, so that their broadcasts are not matched
    (the own copy of the last one may never have been logged); ``variant``: a
    historic rule set (``model.variants``) instead of 3.8's; ``nonatomic_replies``: the
    model produces stale WorkerReceiver replies itself (``Bounds.nonatomic_replies``), so
    none is put down to the known modelling limit."""
    t1, start = window_end(t1, journal), window_start(t0, journal)
    own_before: dict[int, list[int]] = {}
    streams, skipped = observed_streams(episode, events, t0, t1, journal, start, own_copies,
                                        own_before)
    total = sum(len(v) for v in streams.values())
    clocks = start_clocks(episode, events, t0, t1, start)
    broken = link_breaks(episode, events, t0, t1, start)
    # role give-ups draw on the same budget as election timeouts in the model
    timeouts = sum(1 for v in streams.values() for o in v if o.kind in ("timeout", "looking"))
    max_round = 1 + max([o.data[1][3] for v in streams.values() for o in v if o.kind == "recv"]
                        + [c + 1 for c in clocks.values()] + [1])
    try:
        m = episode_model(episode, clocks, max(max_round, 2), timeouts + 1,
                          sum(broken.values()), wire_capacity(streams), variant,
                          nonatomic_replies)
    except InputError as exc:
        return Validation(False, total, 0, 0, str(exc), None, "outside the model's bounds",
                          skipped)
    streams = keep_returns(m, streams)
    total = sum(len(v) for v in streams.values())
    # first the reduced searches (fast; a failure proves nothing), then the complete one;
    # each first with every receipt's logged state as the model's, then with the racy
    # state read allowed (``state_read_race``: only when needed, so that it is counted).
    # The complete racy search runs only when the complete plain one proved that no plain
    # path exists (it is larger still); its exhausted queue proves that no path exists.
    states, exhausted, path = 0, False, None
    best: tuple[int, Any] = (0, None)
    searches = {}
    for races in (False, True):
        searches[races] = _Search(episode, leader, m, streams, broken, races, own_copies,
                                  unobserved)
        searches[races].own_before, searches[races].cut_short = own_before, cut_short
        if time_window is not None:
            searches[races].guided(time_window)
    for reduced, races in ((True, False), (True, True), (False, False), (False, True)):
        search = searches[races]
        budget = reduced_states or max_states if reduced else max_states
        path, best2, states2, exhausted = search.run(budget, reduced=reduced)
        states += states2
        best = best2 if best[1] is None or best2[0] > best[0] else best
        if path is not None or (not reduced and not exhausted):
            break  # explained, or out of budget (the racy search is larger still)
    exhausted = exhausted and not reduced
    if path is not None:
        search.replay(path)
        return Validation(True, total, total, states, skipped=skipped, steps=len(path) - 1,
                          clocks=clocks, races=search.races, model=m,
                          witness=[(label, st) for label, st, _pos in path[1:]])
    st, pos = best[1]
    pending = [streams[k][pos[search.slot[k]]] for k in search.keys
               if pos[search.slot[k]] < len(streams[k])]
    reason = "no matching model step" if exhausted else "state budget exhausted"
    # with non-atomic replies the model itself produces stale replies: no known limit
    stale = {} if nonatomic_replies else stale_replies(streams)
    heads = [(k, pos[search.slot[k]]) for k in search.keys
             if (k, pos[search.slot[k]]) in stale]
    if heads and _prefix_explained(episode, events, t0, t1, start, journal, m,
                                   _receipt_time(episode, events, t0, t1, start, *heads[0]),
                                   max_states, own_copies, unobserved):
        # the search stopped at a stale reply, and everything logged before it is
        # explained: the known modelling limit (inconclusive), named first; the other
        # pending events are listed, not dropped
        k, i = heads[0]
        others = [o for o in pending if o is not streams[k][i]]
        reason = (f"known modelling limit: stale WorkerReceiver reply; search "
                  f"{'exhausted' if exhausted else 'budget spent'}")
        first = f"{streams[k][i].text()} [{stale[(k, i)]}]" + (
            "; also pending: " + "; or ".join(o.text() for o in others) if others else "")
        return Validation(False, total, best[0], states, first, m.describe(st), reason,
                          skipped, clocks=clocks)
    if exhausted and episode.crashed is not None and not episode.leader_crash_fits():
        # the model starts every survivor LOOKING, the real ones were still following
        reason = (f"model start differs: crashed leader {episode.crashed} and the up "
                  "servers synced to it are no quorum (leader-crash does not fit), so "
                  "survivors start LOOKING, not following")
    if not pending:
        first = f"all events matched, but no stable ensemble under leader {leader} was reached"
    else:
        first = "; or ".join(o.text() for o in pending)
    return Validation(False, total, best[0], states, first, m.describe(st), reason, skipped,
                      clocks=clocks)
