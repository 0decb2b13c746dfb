"""Cut servers' logs into election episodes and derive each episode's model inputs.

Only the order of one server's records is trusted. Clocks of different servers may be
skewed, so each server's clock offset is first estimated from its messages (``offsets``),
and only then are the servers' *instances* (one per "LOOKING" line: the server's election
from that line to its decision and the end of its Zab sync) grouped by overlapping time.
An episode is such a group; its participants are the servers with an instance in it.

Everything an episode needs is read from the logs: a participant's lastZxid from its "New
election ... proposed zxid", its currentEpoch from the peerEpoch of its own first vote
(the receipt of its own broadcast, logged at INFO), its start round from that vote's round
(``observations.start_clocks``). An episode whose participants all decide FOLLOWING is a
server joining a running ensemble (``join``); the others are elections. An election that
opens while the previous leader has no instance and its followers start from their roles
is a leader crash (the model's ``leader-crash`` start, when its inputs fit it).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace

from zkcheck.conformance.fle_log import PEER, RECEIVER, Event
from zkcheck.conformance.predict import Episode
from zkcheck.logs.sources import Logs

BEFORE = 0.2
"""Seconds before an episode's first "LOOKING" in which a server in its role may already
log the episode's notifications (its receiver thread runs ahead of its election thread)."""


SLACK = 0.01
"""Seconds by which a receipt may be stamped before its send on one clock."""


@dataclass
class Instance:
    """One server's election from a "LOOKING" line to its decision and sync."""

    sid: int
    life: int
    start: float
    events: list[Event] = field(default_factory=list)
    decided: str | None = None
    decided_at: float | None = None
    serving_at: float | None = None
    took_ms: int | None = None

    @property
    def end(self) -> float:
        return self.decided_at if self.decided_at is not None else self.events[-1].time


@dataclass
class LogEpisode:
    """One election episode as derived from the logs."""

    number: int
    kind: str  # election | join
    instances: list[Instance]
    role_events: list[Event] = field(default_factory=list)
    episode: Episode | None = None
    leader: int | None = None
    notes: list[str] = field(default_factory=list)
    unrepresented: str = ""  # why the model's start cannot be exactly the real one

    @property
    def participants(self) -> list[int]:
        return sorted({i.sid for i in self.instances})

    @property
    def start(self) -> float:
        return min(i.start for i in self.instances)

    @property
    def end(self) -> float:
        return max(i.serving_at or i.end for i in self.instances)

    def events(self) -> list[Event]:
        """The participants' events in the episode, in each server's own order."""
        parts = set(self.participants)
        own = [e for i in self.instances for e in i.events] + [
            e for e in self.role_events if e.sid in parts]
        return sorted(own, key=lambda e: (e.sid, e.life, e.line))


def offsets(logs: Logs) -> dict[int, float]:
    """Estimated clock offset of each server (seconds to subtract), the smallest that
    causality requires.

    A LOOKING notification that R received from S was sent after the "LOOKING" line of the
    election in which S logged its own copy of that vote (the copy itself may be logged
    late). A receipt cannot precede its send, so with d(S->R) the smallest receive time
    minus that line's time over such pairs, the
    offset of R against S lies in [-d(R->S), d(S->R)]. The offset chosen is the point of
    that interval nearest 0: clocks are left alone unless the logs prove them skewed
    (network delays are not symmetric enough here for an NTP-style midpoint: a server
    that starts late receives votes queued long before). Servers are chained from the one
    with the most pairs; one with no pair keeps offset 0."""
    sent: dict[tuple[int, tuple], list[float]] = {}
    for sid, events in logs.events.items():
        looking = None  # the instance's "LOOKING" line precedes every broadcast of it
        for e in events:
            if e.thread == PEER and e.kind == "state" and e.my_state == "LOOKING":
                looking = e.time
            if e.kind == "notification" and e.sender == sid and e.state == "LOOKING" \
                    and looking is not None:
                sent.setdefault((sid, (e.leader, e.zxid, e.round, e.peer_epoch)), []).append(
                    looking)
    delay: dict[tuple[int, int], float] = {}
    for sid, events in logs.events.items():
        for e in events:
            if e.kind != "notification" or e.sender == sid or e.state != "LOOKING":
                continue
            times = sent.get((e.sender, (e.leader, e.zxid, e.round, e.peer_epoch)))
            if not times:
                continue
            d = min((e.time - t for t in times), key=abs)
            key = (e.sender, sid)
            delay[key] = min(delay.get(key, d), d)
    pair = {}
    for (s, r), d in delay.items():
        # offset(r) - offset(s); SLACK: log4j stamps a record before it takes its lock
        lo, hi = -delay.get((r, s), float("inf")) - SLACK, d + SLACK
        pair[(s, r)] = (lo + hi) / 2 if lo > hi else max(lo, min(0.0, hi))
        pair[(r, s)] = -pair[(s, r)]
    out: dict[int, float] = {}
    for root in sorted(logs.events, key=lambda s: -sum(1 for k in pair if s in k)):
        if root in out:
            continue
        out[root] = 0.0
        todo = [root]
        while todo:
            s = todo.pop()
            for (a, b), d in pair.items():
                if a == s and b not in out:
                    out[b] = out[s] + d
                    todo.append(b)
    return out


def _instances(sid: int, events: list[Event]) -> tuple[list[Instance], list[Event]]:
    """A server's instances, and the events it logged in its roles (outside them)."""
    out: list[Instance] = []
    role: list[Event] = []
    cur: Instance | None = None
    for e in events:
        if cur is not None and e.life != cur.life:
            cur = None
        if e.thread == PEER and e.kind == "state" and e.my_state == "LOOKING":
            cur = Instance(sid, e.life, e.time)
            out.append(cur)
        if cur is None:
            role.append(e)
            continue
        cur.events.append(e)
        if e.thread == PEER and e.kind == "decided":
            cur.decided, cur.decided_at = e.my_state, e.time
        elif e.kind == "election_took":
            cur.took_ms = e.ms
        elif e.kind == "zab_phase" and e.text.endswith("broadcast"):
            cur.serving_at = e.time
            cur = None
    return out, role


def _vote_key(e: Event) -> tuple | None:
    """A LOOKING notification's sender and vote (None for any other record)."""
    if e.kind != "notification" or e.state != "LOOKING":
        return None
    return (e.sender, e.leader, e.zxid, e.round, e.peer_epoch)


def _broadcasts(episodes: list[LogEpisode]) -> dict[tuple, list[LogEpisode]]:
    """The episode in which each LOOKING vote was broadcast, known from its sender's
    receipt of its own copy (logged at INFO). A receipt a server logs in its role belongs
    to the election of the vote's sender, whatever the clocks say: a follower that is
    slow to notice its leader's crash answers the survivors' first votes while the
    previous episode (its own join) still seems to be running. (A vote broadcast again in
    a later life of its sender lists several episodes, in time order.)"""
    out: dict[tuple, list[LogEpisode]] = {}
    for ep in episodes:
        for inst in ep.instances:
            for e in inst.events:
                key = _vote_key(e)
                if e.thread == RECEIVER and e.sender == inst.sid and key is not None:
                    homes = out.setdefault(key, [])
                    if ep not in homes:
                        homes.append(ep)
    return out


def split(logs: Logs) -> tuple[list[LogEpisode], dict[int, float], int]:
    """Episodes in time order (after the clock correction), the offsets used, and the
    number of role-time events that fell in no episode (not used)."""
    skew = offsets(logs)
    instances: list[Instance] = []
    role: list[Event] = []
    for sid, events in logs.events.items():
        shift = skew.get(sid, 0.0)
        moved = [replace(e, time=e.time - shift) for e in events] if shift else events
        own, rest = _instances(sid, moved)
        instances += [i for i in own if i.events]
        role += rest
    instances.sort(key=lambda i: (i.start, i.sid))
    groups: list[list[Instance]] = []
    for inst in instances:
        if groups and inst.start <= max(i.end for i in groups[-1]) + 0.05:
            groups[-1].append(inst)
        else:
            groups.append([inst])
    episodes = [LogEpisode(k + 1, "election", g) for k, g in enumerate(groups)]
    unused = 0
    starts = [ep.start - BEFORE for ep in episodes]  # increasing: groups do not overlap
    broadcast = _broadcasts(episodes)
    for e in role:
        homes = broadcast.get(_vote_key(e), [])  # the latest that began before the receipt
        home = next((ep for ep in reversed(homes) if ep.start - BEFORE <= e.time), None)
        if home is not None:
            home.role_events.append(e)
            continue
        k = bisect.bisect_right(starts, e.time) - 1
        home = next((ep for ep in episodes[max(k - 1, 0):k + 1]
                     if ep.start - BEFORE <= e.time <= ep.end + 0.05), None)
        if home is None:
            unused += e.kind == "notification"
        else:
            home.role_events.append(e)
    return episodes, skew, unused


def _own_vote(inst: Instance) -> Event | None:
    return next((e for e in inst.events if e.kind == "notification" and e.thread == RECEIVER
                 and e.sender == inst.sid and e.state == "LOOKING"), None)


def _heard_vote(ep: LogEpisode, sid: int) -> Event | None:
    """A server's first vote (for itself) as another participant received it: its
    currentEpoch when its own copy was never logged (e.g. its process was stopped first)."""
    return next((e for e in ep.events() if e.kind == "notification" and e.sender == sid
                 and e.sid != sid and e.state == "LOOKING" and e.leader == sid), None)


def _followed(inst: Instance) -> int | None:
    """The leader named by the last notification a server received before it decided to
    follow (the vote that completed its quorum), at INFO the only trace of whom it
    followed."""
    last = None
    for e in inst.events:
        if e.thread == PEER and e.kind == "decided":
            break
        if e.kind == "notification" and e.thread == RECEIVER:
            last = e.leader
    return last


def derive(episodes: list[LogEpisode], n: int, logged: set[int] | None = None) -> None:
    """Fill in each episode's kind, model inputs (``Episode``) and real leader. An episode
    whose participants all followed a server without a log (``logged``: the servers with
    one) is that server's election, not a join."""
    previous: LogEpisode | None = None
    joined: set[int] = set()  # servers that joined a running ensemble since ``previous``
    for ep in episodes:
        parts = ep.participants
        inputs: dict[int, tuple[int, int, int, int]] = {}
        for sid in parts:
            first = next(i for i in ep.instances if i.sid == sid)
            election = next((e for e in first.events if e.kind == "new_election"), None)
            vote = _own_vote(first) or _heard_vote(ep, sid)
            zxid = election.zxid if election else vote.zxid if vote else 0
            if vote is None:
                ep.notes.append(f"server {sid}: its own vote is not logged; currentEpoch "
                                "taken as its lastZxid's epoch")
            elif vote.sid != sid:
                ep.notes.append(f"server {sid}: its own vote is not logged; currentEpoch "
                                f"taken from its vote as server {vote.sid} received it")
            epoch = vote.peer_epoch if vote else zxid >> 32
            inputs[sid] = (sid, epoch, epoch, zxid)
        last = {sid: [i for i in ep.instances if i.sid == sid][-1] for sid in parts}
        leaders = [sid for sid, i in last.items() if i.decided == "LEADING"]
        if not leaders and all(i.decided for i in last.values()):
            ep.kind = "join"
            named = {_followed(i) for i in last.values()}
            if logged is not None and len(named) == 1 and None not in named \
                    and named <= set(range(1, n + 1)) - logged:
                ep.kind = "election"
                leaders = list(named)
        if not all(i.decided for i in last.values()):
            ep.notes.append("the logs end before server(s) "
                            f"{[s for s, i in last.items() if not i.decided]} decided")
        ep.leader = leaders[0] if len(leaders) == 1 else None
        if len(leaders) > 1:
            ep.notes.append(f"servers {leaders} each ended the episode LEADING")
        crashed = None
        # a leader crash: the followers of the previous election, still the same processes
        # (no restart since), open this one without their leader
        same_life = {(i.sid, i.life) for i in ep.instances} & {
            (i.sid, i.life) for i in previous.instances if i.decided == "FOLLOWING"} \
            if previous is not None else set()
        if ep.kind == "election" and previous is not None and previous.leader is not None \
                and previous.leader not in parts and same_life:
            crashed = previous.leader
            best = max(inputs.values(), key=lambda t: (t[1], t[3]))
            inputs[crashed] = (crashed, best[1], best[1], best[3])
            if joined & set(parts):
                ep.unrepresented = (
                    f"server(s) {sorted(joined & set(parts))} joined the crashed leader's "
                    "ensemble after its election (out-of-election rule, synced later); the "
                    "model's leader-crash start has every survivor follow from that "
                    "election, so this start may not be represented exactly")
        for sid in range(1, n + 1):
            inputs.setdefault(sid, (sid, 0, 0, 0))
        ep.episode = Episode(n, tuple(inputs[s] for s in sorted(inputs)), frozenset(parts),
                             crashed=crashed)
        if ep.kind == "election":
            previous, joined = ep, set()
        else:
            joined |= set(parts)
