"""The observation side of trace validation: what the logs show and what a model step would show.

The observed events of one episode (from its start to the stable leader, cut at the
harness's next action: ``window_start``, ``window_end``) are kept as one ordered stream
per server and thread (``observed_streams``) -- the QuorumPeer thread (new election,
broadcasts, timeouts, decisions; plus the harness's launch of a booting server first) and
the WorkerReceiver thread (notifications received from other servers). Only the order
inside a stream is trusted (fle_log's docstring says why). ``model_observations`` puts a
model transition in the same comparable form (``Obs``), so that the search
(``trace_search``) can match the two.

Rounds are absolute: the model starts every up server at its real logicalclock
(``start_clocks``). A replaced election connection ("Connection broken") is counted per
pair (``link_breaks``). Self-notifications (the loopback copy of a server's own broadcast)
have no model step of their own and are skipped. A receipt's logged "my state" may be the
one before the receiver's state change (``state_read_race``), and a stale WorkerReceiver
reply, which the atomic model cannot produce, is recognised from its log evidence
(``stale_replies``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zkcheck.conformance.fle_log import PEER, RECEIVER, Event
from zkcheck.conformance.predict import Episode, model_zxid
from zkcheck.model.config import ZXID_COUNTER_LIMIT
from zkcheck.model.fle import FLEModel
from zkcheck.model.state import F_STATE, F_ZXID, STATE_NAMES, T_CHANS, T_SERVERS, unpack_vote

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


def window_events(episode: Episode, events: list[Event], t0: float, t1: float,
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
    for e in window_events(episode, events, t0, t1, start):
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
    for e in window_events(episode, events, t0, t1, start):
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
    for e in window_events(episode, events, t0, t1, start):
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


def receipt_time(episode: Episode, events: list[Event], t0: float, t1: float,
                 start: float, key: tuple[int, str], index: int) -> float:
    """Log time of the ``index``-th receipt of stream ``key`` (as ``observed_streams``
    counts them)."""
    found = [e.time for e in window_events(episode, events, t0, t1, start)
             if e.sid == key[0] and e.thread == RECEIVER and e.kind == "notification"
             and e.sender != e.sid and e.sender in episode.participants]
    return found[index]

