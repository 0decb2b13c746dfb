"""Validate each episode of a user's logs against the model: explained, not explained or
inconclusive, with the evidence for each.

Elections are replayed by ``conformance.validate`` (a search for a model path producing
exactly the logged events of every server, in each server's own order). A server joining a
running ensemble is checked against 3.8's out-of-election rule instead (the model starts
every episode with all participants in an election, not inside a running ensemble): it
may follow L only after a quorum of servers in their roles named L and L itself said
LEADING.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from zkcheck.conformance.fle_log import RECEIVER, Event
from zkcheck.conformance.validate import Validation, validate
from zkcheck.logs.episodes import LogEpisode
from zkcheck.model.variants import Variant

EXPLAINED, NOT_EXPLAINED, INCONCLUSIVE = "explained", "not explained", "inconclusive"

TIME_WINDOW = 0.005
"""Seconds by which a matched event may be stamped after a pending one before the search
ranks its node down (``conformance.guide``: the complete search only reorders; the
reduced one also takes a logged timeout as connectAll-only only when its stamp is due)."""

REDUCED_SHARE = 0.34
"""Share of ``--max-states`` each reduced search (a heuristic; its failure proves nothing)
may spend before the complete search gets the whole budget."""


@dataclass
class Verdict:
    """The outcome of one episode."""

    episode: LogEpisode
    verdict: str
    detail: str
    seconds: float = 0.0
    validation: Validation | None = None
    hint: str = ""
    unobserved: list[int] = field(default_factory=list)
    leader: int | None = None
    nonatomic_needed: bool = False  # explained only with non-atomic replies

    def as_dict(self) -> dict[str, Any]:
        ep, v = self.episode, self.validation
        out: dict[str, Any] = {
            "episode": ep.number, "kind": ep.kind, "servers": ep.participants,
            "unobserved_servers": self.unobserved, "leader": self.leader,
            "start": ep.start, "duration_s": round(ep.end - ep.start, 3),
            "election_took_ms": {i.sid: i.took_ms for i in ep.instances if i.took_ms},
            "inputs": ep.episode.describe() if ep.episode else "",
            "verdict": self.verdict, "detail": self.detail, "hint": self.hint,
            "notes": ep.notes, "nonatomic_replies_needed": self.nonatomic_needed,
            "check_seconds": round(self.seconds, 3)}
        if v is not None:
            out |= {"events": v.events, "consumed": v.consumed, "states": v.states,
                    "path": [label for label, _st in v.witness],
                    "first_unexplained": v.first_unexplained,
                    "model_state": v.model_state if not v.explained else None}
        return out


def _unobserved(ep: LogEpisode, logged: set[int], n: int) -> dict[int, Event]:
    """Servers without any log whose LOOKING votes the participants received in the
    episode: their first vote (its sender's own proposal), to take part unobserved."""
    out: dict[int, Event] = {}
    for e in ep.events():
        if e.kind == "notification" and e.thread == RECEIVER and e.state == "LOOKING" \
                and e.sender not in logged and 1 <= e.sender <= n and e.sender not in out:
            out[e.sender] = e
    return out


def _from_outside(ep: LogEpisode, ghosts: set[int]) -> str | None:
    """A LOOKING vote received while LOOKING from a server whose own log shows no election
    in the episode: no model step (nor ZooKeeper) produces it. (Receipts after a decision
    may belong to the next joiner, whose election is the next episode.)"""
    inside = set(ep.participants) | ghosts
    for inst in ep.instances:
        for e in inst.events:
            if e.kind == "notification" and e.state == "LOOKING" and e.sender not in inside \
                    and e.my_state == "LOOKING":
                return (f"server {e.sid} received a LOOKING vote (leader {e.leader}, round "
                        f"{e.round}, zxid {e.zxid:#x}) from server {e.sender}, whose log shows "
                        f"no election at that time (record {e.line} of server {e.sid}'s log)")
    return None


def _join(ep: LogEpisode, n: int) -> Verdict:
    """A join: each participant must have followed a leader named by a quorum of servers
    in their roles, that leader itself saying LEADING."""
    need = n // 2 + 1
    leaders = set()
    for sid in ep.participants:
        named: dict[int, set[int]] = {}
        leading: set[int] = set()
        for e in ep.events():
            if e.sid == sid and e.kind == "notification" and e.state in ("FOLLOWING",
                                                                         "LEADING"):
                named.setdefault(e.leader, set()).add(e.sender)
                if e.state == "LEADING" and e.sender == e.leader:
                    leading.add(e.sender)
        fits = [leader for leader, who in named.items() if len(who | {sid}) >= need
                and leader in leading]
        if not fits:
            return Verdict(ep, NOT_EXPLAINED, f"server {sid} followed a leader although no "
                           f"quorum of servers in their roles named one to it (receipts: "
                           + ", ".join(f"leader {k} from {sorted(v)}" for k, v in
                                       sorted(named.items())) + ")")
        leaders.add(fits[0])
    leader = min(leaders) if len(leaders) == 1 else None
    return Verdict(ep, EXPLAINED, f"joined the running ensemble of leader {leader} "
                   "(3.8 out-of-election rule: a quorum of servers in their roles named it)",
                   leader=leader)


def check(ep: LogEpisode, n: int, logged: set[int], debug: set[int], max_states: int,
          variant: Variant | None = None, nonatomic_replies: bool = False) -> Verdict:
    """The verdict of one episode (``nonatomic_replies``: validated against the model
    with the WorkerReceiver's replies as steps of their own)."""
    t = time.monotonic()
    if ep.kind == "join":
        out = _join(ep, n)
        out.seconds = time.monotonic() - t
        return out
    events = ep.events()
    ghosts = _unobserved(ep, logged, n)
    bogus = _from_outside(ep, set(ghosts))
    if bogus is not None:
        return Verdict(ep, NOT_EXPLAINED, bogus, time.monotonic() - t, leader=ep.leader)
    episode = ep.episode
    if ghosts:
        # an absent log: the server takes part with its vote as the others received it,
        # every step of it unobserved (its own vote's receipt is the only event it gets)
        inputs = {s: (s, ce, ae, z) for s, ce, ae, z in episode.inputs}
        for sid, e in ghosts.items():
            ce = e.peer_epoch if e.leader == sid else inputs[sid][1]
            z = e.zxid if e.leader == sid else inputs[sid][3]
            inputs[sid] = (sid, ce, ce, z)
            events.append(replace(e, sid=sid, sender=sid, line=0))
        episode = replace(episode, inputs=tuple(inputs[s] for s in sorted(inputs)),
                          up=episode.up | set(ghosts))
        ep.notes.append(f"server(s) {sorted(ghosts)} have no log: taking part unobserved, "
                        "with the vote the others received from them")
    own_copies = frozenset(sid for sid in episode.participants
                           if sid not in debug and sid not in ghosts)
    cut = frozenset(i.sid for i in ep.instances if i.decided is None and i.sid in own_copies)
    t0, t1 = min(e.time for e in events), max(e.time for e in events) + 0.001

    def replay(nonatomic: bool) -> Validation:
        return validate(episode, ep.leader, events, t0, t1, [], max_states=max_states,
                        own_copies=own_copies, unobserved=frozenset(ghosts), variant=variant,
                        cut_short=cut, nonatomic_replies=nonatomic, time_window=TIME_WINDOW,
                        reduced_states=int(max_states * REDUCED_SHARE))

    v = replay(nonatomic_replies)
    needed = False
    if not v.explained and not nonatomic_replies \
            and v.reason.startswith("known modelling limit"):
        # the logs show a stale WorkerReceiver reply and everything before it is explained:
        # replay against the model that produces such replies (only now, and said so)
        retry = replay(True)
        if retry.explained or retry.reason == "no matching model step":
            ep.notes.append("a stale WorkerReceiver reply: replayed with non-atomic replies "
                            f"(--nonatomic-replies), since the atomic model stopped at "
                            f"{v.first_unexplained.partition(' [')[0]}")
            v, needed = retry, True
    seconds = time.monotonic() - t
    out = Verdict(ep, EXPLAINED if v.explained else NOT_EXPLAINED, v.text(), seconds, v,
                  unobserved=sorted(ghosts), leader=ep.leader, nonatomic_needed=needed)
    if v.explained:
        return out
    reason = v.reason
    if reason.startswith("known modelling limit"):
        out.verdict = INCONCLUSIVE
        out.hint = "a stale WorkerReceiver reply, which the model does not produce"
    elif ep.unrepresented and reason == "no matching model step":
        out.verdict = INCONCLUSIVE
        out.hint = ep.unrepresented
    elif reason == "state budget exhausted":
        out.verdict = INCONCLUSIVE
        out.hint = (f"the search stopped at its budget of {max_states} states; raise it "
                    f"with --max-states {max_states * 4}")
    elif reason == "outside the model's bounds":
        out.verdict = INCONCLUSIVE
        out.hint = "the logged rounds/zxids exceed what the model represents"
    elif reason.startswith("model start differs"):
        out.verdict = INCONCLUSIVE
        out.hint = "the inputs derived from the logs do not fit the model's leader-crash start"
    return out
