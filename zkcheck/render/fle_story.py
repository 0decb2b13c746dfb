"""The FLE reading of a trace: what each step means, which messages travelled, what changed.

Everything is derived from consecutive states and the action labels (``start 2``,
``transmit 2->1``, ``deliver 2->1``, ``process 1``, ``followerinfo 1`` ...; see
``zkcheck.model.fle``), never stored in the state:

* election messages: a channel's wire gaining a message is a send (Transmit, or the
  re-send of ``lastMessageSent`` on connect); the head leaving the wire on ``deliver i->j``
  is its delivery; a wire emptied by any other step (link down, crash) loses what was in
  it. The wire is FIFO, so sends and deliveries pair up in order. Whether a message is a
  broadcast vote or a WorkerReceiver reply is known from the step that filled the outbox;
* Zab messages: the model folds each exchange into atomic steps, so FOLLOWERINFO and the
  ACK of NEWLEADER are sent and handled in one step; LEADERINFO, ACKEPOCH, NEWLEADER and
  UPTODATE are "on the way" from the first state in which the sender has sent them (its
  phase allows it and the learner's session is alive) to the step that handles them, or
  are lost when that condition ends otherwise (crash, give-up, leader gone).
"""

from __future__ import annotations

from typing import Any

from zkcheck.explorer import Trace
from zkcheck.model import state as L
from zkcheck.render.fle_decode import Msg, Server, World, world, zxid
from zkcheck.render.story import (
    Mark,
    Message,
    Step,
    Story,
    outcome,
)

COLUMNS = ["state", "round", "vote", "recvset", "recvqueue", "epochs", "zab"]
"""Step-table columns per server; vote = (leader, zxid, round, peerEpoch), epochs =
acceptedEpoch/currentEpoch, recvset/recvqueue = sender:leader (F/L = FOLLOWING/LEADING)."""
STATE = L.STATE_NAMES


def _mtext(m: Msg) -> str:
    """A notification as on the chart: (leader, zxid, round, peerEpoch), with its state."""
    st, leader, z, rnd, pe = m
    body = f"({leader}, {zxid(z)}, {rnd}, {pe})"
    return body if st == L.LOOKING else f"{STATE[st]} {body}"


def _vtext(m: Msg | tuple) -> str:
    """A vote in words (for sentences)."""
    if len(m) == 5:
        _, leader, z, rnd, pe = m
    else:
        leader, z, rnd, pe = m
    return f"(leader {leader}, zxid {zxid(z)}, round {rnd}, peerEpoch {pe})"


def _ktext(key: tuple | None) -> str:
    if key is None:
        return "-"
    leader, z, pe = key
    return f"(leader {leader}, zxid {zxid(z)}, peerEpoch {pe})"


class _Reader:
    """Walks the trace once, building sentences, messages and marks."""

    def __init__(self, model: Any, trace: Trace):
        self.m = model
        self.sids: tuple[int, ...] = model.sids
        self.n = model.n
        self.trace = trace
        self.worlds = [world(s, self.n) for s in trace.states]
        self.step_t = 0  # the step being told (its trace index)
        self.messages: list[Message] = []
        self.marks: list[Mark] = []
        self.inflight: dict[tuple[int, int], list[Message]] = {}
        self.origin: dict[tuple[int, int], str] = {}
        self.zab_pending: dict[tuple[str, int], Message] = {}

    # ------------------------------------------------------------------ helpers
    def lane(self, k: int) -> str:
        return str(self.sids[k])

    def sid(self, k: int) -> int:
        return self.sids[k]

    def idx(self, sid_text: str) -> int:
        return self.m.index[int(sid_text)]

    def mark(self, t: int, k: int, text: str, kind: str) -> None:
        self.marks.append(Mark(t, self.lane(k), text, kind))

    def group(self, mask: int) -> str:
        return "{" + ", ".join(str(s) for k, s in enumerate(self.sids) if mask >> k & 1) + "}"

    def support(self, s: Server) -> int:
        """Voters whose recvset vote equals (proposal, logicalclock) as a LOOKING vote."""
        if s.proposal is None:
            return 0
        leader, z, pe = s.proposal
        mask = 0
        for j, v in s.recv.items():
            if v == (L.LOOKING, leader, z, s.clock, pe):
                mask |= 1 << j
        return mask

    def leader_of(self, w: World, k: int) -> int | None:
        """Index of the server a learner follows (its published vote's leader)."""
        v = w.servers[k].vote
        if v is None or v[0] not in self.m.index:
            return None
        return self.m.index[v[0]]

    # ------------------------------------------------------------------ walk
    def run(self) -> list[Step]:
        first = self.worlds[0]
        for (i, j), c in first.chans.items():
            self.inflight[(i, j)] = [Message(self.lane(i), self.lane(j), _mtext(m), 0)
                                     for m in c.wire]
            self.messages.extend(self.inflight[(i, j)])
        self.zab_pending = {key: Message(self.lane(a), self.lane(b), text, 0, kind="zab")
                            for key, (a, b, text) in self.zab_expected(first).items()}
        self.messages.extend(self.zab_pending.values())
        for k, s in enumerate(first.servers):
            self.mark(0, k, self.initial_text(s, k), "state")
        steps = [Step(0, "Init", "initial state")]
        for t, label in enumerate(self.trace.labels, start=1):
            before, after = self.worlds[t - 1], self.worlds[t]
            word, _, arg = label.partition(" ")
            self.step_t = t
            sentence = self.sentence(t, word, arg, before, after)
            self.track_wires(t, word, arg, before, after)
            self.track_zab(t, word, arg, before, after)
            self.server_marks(t, word, arg, before, after)
            steps.append(Step(t, label, sentence, self.actor(word, arg)))
        return steps

    def actor(self, word: str, arg: str) -> str | None:
        if "->" in arg:  # the receiving side, except the replier's build and reply
            return arg.split("->")[0 if word in ("build", "reply") else 1]
        if "-" in arg:
            return arg.split("-")[0]
        return arg or None

    def initial_text(self, s: Server, k: int) -> str:
        if not s.up:
            return "down (late)" if self.worlds[0].late >> k & 1 else "down"
        text = STATE[s.state]
        if s.state != L.LOOKING and s.vote is not None:
            text += f" (leader {s.vote[0]})"
        return f"{text}\nepochs {s.ae}/{s.ce} (acc/cur), zxid {zxid(s.zxid)}"

    # ------------------------------------------------------------------ messages
    def track_wires(self, t: int, word: str, arg: str, before: World, after: World) -> None:
        delivered_pair = None
        if word == "deliver":
            a, b = arg.split("->")
            delivered_pair = (self.idx(a), self.idx(b))
        reason = {"linkdown": f"link {arg} down", "crash": f"{arg} crashed"}.get(word, word)
        for pair, c in after.chans.items():
            p = before.chans[pair]
            if c.outbox != p.outbox and c.outbox is not None:
                self.origin[pair] = "reply" if word in ("deliver", "reply") else \
                    "notification"
            if c.wire == p.wire:
                continue
            old, new = p.wire, c.wire
            d = next(d for d in range(len(old) + 1)
                     if old[d:] == new[:len(old) - d])
            queue = self.inflight.setdefault(pair, [])
            for message in queue[:d]:
                if pair == delivered_pair:
                    message.delivered = t
                else:
                    message.lost, message.lost_reason = t, reason
            del queue[:d]
            for m in new[len(old) - d:]:
                kind = self.origin.get(pair, "notification") if word == "transmit" else (
                    "notification")
                text = _mtext(m) + (" re-sent" if word == "connect" else "")
                message = Message(self.lane(pair[0]), self.lane(pair[1]), text, t, kind=kind)
                queue.append(message)
                self.messages.append(message)

    def zab_expected(self, w: World) -> dict[tuple[str, int], tuple[int, int, str]]:
        """Zab messages on their way in state ``w``: (name, learner) -> (src, dst, text)."""
        out: dict[tuple[str, int], tuple[int, int, str]] = {}
        for k, s in enumerate(w.servers):
            lz = s.learner_zab
            if not s.up or lz is None:
                continue
            lk = self.leader_of(w, k)
            if lk is None:
                continue
            ls = w.servers[lk]
            z = ls.leader_zab
            if (not ls.up or ls.state != L.LEADING or ls.phase != L.P_ROLE or z is None
                    or not z[3] >> k & 1):
                continue
            phase, epoch = z[0], z[1]
            zp, minus1 = lz
            if zp == L.Z_INFO and phase >= L.L_EPOCH:
                out[("LEADERINFO", k)] = (lk, k, f"LEADERINFO({epoch})")
            elif zp == L.Z_ACKEPOCH:
                text = "ACKEPOCH(-1)" if minus1 else f"ACKEPOCH({s.ce}, {zxid(s.zxid)})"
                out[("ACKEPOCH", k)] = (k, lk, text)
            elif zp == L.Z_SYNC and phase >= L.L_SYNC:
                out[("NEWLEADER", k)] = (lk, k, f"NEWLEADER({epoch})")
            elif zp == L.Z_ACKSENT:
                out[("ACK", k)] = (k, lk, "ACK")
            elif zp == L.Z_ACKED and phase == L.L_BROADCAST:
                out[("UPTODATE", k)] = (lk, k, "UPTODATE")
        return out

    def track_zab(self, t: int, word: str, arg: str, before: World, after: World) -> None:
        consumer = {"LEADERINFO": "leaderinfo", "ACKEPOCH": "ackepoch",
                    "NEWLEADER": "newleader", "ACK": "newleader-ack", "UPTODATE": "uptodate"}
        expected = self.zab_expected(after)
        actor = self.idx(arg) if arg.isdigit() else None
        for key, message in list(self.zab_pending.items()):
            name, k = key
            if consumer[name] == word and actor == k:
                message.delivered = t
            elif key not in expected:
                message.lost, message.lost_reason = t, self.zab_loss(word, arg)
            else:
                continue
            del self.zab_pending[key]
        for key, (a, b, text) in expected.items():
            if key not in self.zab_pending:
                message = Message(self.lane(a), self.lane(b), text, t, kind="zab")
                self.zab_pending[key] = message
                self.messages.append(message)
        acked_at_once = word == "newleader" and actor is not None and \
            after.servers[actor].learner_zab is not None and \
            after.servers[actor].learner_zab[0] != L.Z_ACKSENT
        if (word == "followerinfo" or acked_at_once) and actor is not None:
            lk = self.leader_of(after, actor)
            if lk is None:
                return
            s = before.servers[actor]
            text = f"FOLLOWERINFO({s.ae})" if word == "followerinfo" else "ACK"
            self.messages.append(Message(self.lane(actor), self.lane(lk), text, t, t,
                                         kind="zab"))

    @staticmethod
    def zab_loss(word: str, arg: str) -> str:
        return {"crash": f"{arg} crashed", "giveup": f"{arg} gave up", "lost": f"{arg} lost "
                "its leader", "lost-quorum": f"{arg} lost its quorum"}.get(word, word)

    # ------------------------------------------------------------------ marks
    def server_marks(self, t: int, word: str, arg: str, before: World, after: World) -> None:
        new_hist = [h for h in after.hist if h not in before.hist]
        established = {self.m.index[h[L.H_LEADER]]: h for h in new_hist
                       if h[L.H_LEADER] in self.m.index}
        for k, (p, s) in enumerate(zip(before.servers, after.servers, strict=True)):
            mine = arg.isdigit() and self.idx(arg) == k
            if p.up and not s.up:
                self.mark(t, k, "CRASH", "crash")
                continue
            if not p.up and s.up:
                self.mark(t, k, "BOOT" if word == "boot" else "RESTART", "restart")
                continue
            if not s.up:
                continue
            if word == "start" and mine:
                self.mark(t, k, f"round {s.clock}: votes {s.proposal[0] if s.proposal else '-'}",
                          "vote")
            elif s.proposal != p.proposal and s.proposal is not None:
                text = f"votes {s.proposal[0] if s.proposal else '-'}"
                if s.clock != p.clock:
                    text = f"round {s.clock}: " + text
                self.mark(t, k, text, "vote")
            elif s.clock != p.clock:
                back = s.clock < p.clock and p.clock >= 0 and s.clock >= 0
                self.mark(t, k, f"round {p.clock} \u2192 {s.clock}: goes BACK" if back
                          else f"round {s.clock}", "vote")
            if s.phase == L.P_FINAL and p.phase != L.P_FINAL:
                self.mark(t, k, f"quorum {self.group(self.support(s))}: waits", "note")
            if word == "drain" and mine and s.phase == L.P_ROUND:
                self.mark(t, k, "better vote: stops waiting", "note")
            if word == "timeout" and mine:
                self.mark(t, k, "timeout: re-broadcast", "note")
            if s.state != p.state:
                self.mark(t, k, self.state_text(s), STATE[s.state].lower()
                          if s.state in (L.LEADING, L.FOLLOWING, L.LOOKING) else "following")
            if k in established:
                self.mark(t, k, f"ESTABLISHED epoch {established[k][L.H_EPOCH]}", "epoch")
            elif s.ce != p.ce:
                self.mark(t, k, f"currentEpoch {s.ce}", "epoch")
            if s.ae != p.ae:
                decided = s.leader_zab is not None and s.leader_zab[0] >= L.L_EPOCH
                self.mark(t, k, f"decides epoch {s.ae}" if decided else
                          f"accepts epoch {s.ae}", "epoch")
            lz, pz = s.leader_zab, p.leader_zab
            if lz is not None and lz[0] == L.L_BROADCAST and (pz is None or pz[0] != lz[0]):
                self.mark(t, k, "NEWLEADER quorum: serving", "epoch")
            fz, pfz = s.learner_zab, p.learner_zab
            if fz is not None and fz[0] == L.Z_SERVING and (pfz is None or pfz[0] != fz[0]):
                self.mark(t, k, "serving", "note")
            if s.zxid != p.zxid:
                self.mark(t, k, f"lastZxid {zxid(s.zxid)}", "note")
        if word in ("connect", "linkdown"):
            a, b = arg.split("-")
            text = f"link {a}-{b} " + ("up" if word == "connect" else "DOWN")
            for k in (self.idx(a), self.idx(b)):
                self.mark(t, k, text, "link")

    def state_text(self, s: Server) -> str:
        name = STATE[s.state]
        if s.state == L.LOOKING:
            return "LOOKING"
        v = s.result or s.vote
        rnd = f"round {v[2]}" if v is not None else ""
        if s.state == L.LEADING:
            return f"LEADING ({rnd})"
        return f"{name} {v[0] if v else '?'} ({rnd})"

    # ------------------------------------------------------------------ sentences
    def sentence(self, t: int, word: str, arg: str, before: World, after: World) -> str:
        method = getattr(self, "say_" + word.replace("-", "_"), None)
        if method is None:
            return f"action {word} {arg}".strip()
        return method(arg, before, after)

    def recipients(self, k: int, before: World, after: World) -> str:
        """Whom k's broadcast went to, and which unsent messages it replaced."""
        to, replaced = [], []
        for j in range(self.n):
            if j == k or (k, j) not in after.chans:
                continue
            b, a = before.chans[(k, j)], after.chans[(k, j)]
            if a.outbox != b.outbox and a.outbox is not None:
                to.append(str(self.sid(j)))
                if b.outbox is not None:
                    replaced.append(str(self.sid(j)))
        text = f"; queues it for {', '.join(to)}" if to else ""
        if replaced:
            text += f" (overwriting the unsent message to {', '.join(replaced)})"
        return text

    def say_start(self, arg: str, before: World, after: World) -> str:
        k = self.idx(arg)
        s = after.servers[k]
        if not self.m.voter[k]:
            own = "with the minimum vote (an observer never proposes itself)"
        else:
            own = f"and votes for itself {_ktext(s.proposal)}"
        return f"{arg} starts round {s.clock} {own}" + self.recipients(k, before, after)

    def say_process(self, arg: str, before: World, after: World) -> str:
        k = self.idx(arg)
        p, s = before.servers[k], after.servers[k]
        sender, m = p.queue[0]
        st, leader, z, rnd, pe = m
        whose = "its own" if sender == k else f"{self.sid(sender)}'s"
        what = "vote" if st == L.LOOKING else f"{STATE[st]} notification"
        head = f"{arg} receives {whose} {what} {_vtext(m)}"
        if leader not in self.m.index or not self.m.voter[self.m.index[leader]]:
            return head + " and drops it (the proposed leader is not a voter)"
        if st == L.OBSERVING:
            return head + " and drops it (observers' notifications are ignored)"
        if st == L.LOOKING:
            if rnd > p.clock:
                tail = (f": a newer round, so it joins round {rnd}, clears its votes and "
                        f"votes for {s.proposal[0] if s.proposal else '-'}")
            elif rnd < p.clock:
                return head + f" from an older round (it is in round {p.clock}) and ignores it"
            elif s.proposal != p.proposal:
                tail = " and switches to it"
            else:
                tail = f" and keeps its vote for {p.proposal[0] if p.proposal else '-'}"
            tail += self.recipients(k, before, after)
            if s.phase == L.P_FINAL:
                tail += (f"; {self.group(self.support(s))} agree on "
                         f"{s.proposal[0] if s.proposal else '-'}: it waits for a better vote "
                         "before deciding")
            elif s.phase == L.P_DECIDED:
                tail += (f"; it has heard from every voter and decides {self.state_text(s)} "
                         "at once (the pre-ZOOKEEPER-975 exit, no quorum check)")
            return head + tail
        if s.phase == L.P_DECIDED and s.dec is not None:
            kind, mask, _ = s.dec
            role = "leads" if s.state == L.LEADING else f"follows {leader}"
            lowered = f", sets its round to {s.clock}" if s.clock != p.clock else ""
            return head + (f" and {role}{lowered} ({L.DEC_NAMES[kind]}, quorum "
                           f"{self.group(mask)})")
        return head + f" and records it (no confirmed quorum for leader {leader} yet)"

    def say_drain(self, arg: str, before: World, after: World) -> str:
        k = self.idx(arg)
        sender, m = before.servers[k].queue[0]
        whose = "its own" if sender == k else f"{self.sid(sender)}'s"
        if after.servers[k].phase == L.P_ROUND:
            return (f"{arg}, waiting to decide, sees {whose} better vote {_vtext(m)}: puts it "
                    "back and returns to the election")
        return (f"{arg}, waiting to decide, discards {whose} vote {_vtext(m)} (not better than "
                "its proposal)")

    def say_decide(self, arg: str, before: World, after: World) -> str:
        k = self.idx(arg)
        s = after.servers[k]
        mask = s.dec[1] if s.dec else 0
        return (f"nothing better arrived: {arg} decides {self.state_text(s)}, "
                f"quorum {self.group(mask)}")

    def say_timeout(self, arg: str, before: World, after: World) -> str:
        k = self.idx(arg)
        return (f"{arg}'s election timeout expires with an empty queue: it re-broadcasts "
                f"{_ktext(after.servers[k].proposal)}" + self.recipients(k, before, after))

    def say_publish(self, arg: str, before: World, after: World) -> str:
        k = self.idx(arg)
        s = after.servers[k]
        v = _vtext(s.vote) if s.vote else "-"
        if s.leader_zab is not None:
            phase, epoch = s.leader_zab[0], s.leader_zab[1]
            role = f"starts leading (Zab discovery, epoch candidate {epoch})"
            if phase >= L.L_EPOCH:
                role = f"starts leading and decides epoch {epoch} at once"
        elif s.state == L.OBSERVING:
            role = "starts observing"
        else:
            role = f"starts following {s.vote[0] if s.vote else '?'}"
        return f"{arg} publishes its vote {v} and {role}"

    def say_followerinfo(self, arg: str, before: World, after: World) -> str:
        k = self.idx(arg)
        lk = self.leader_of(after, k)
        s = before.servers[k]
        text = f"{arg} connects to leader {self.sid(lk) if lk is not None else '?'} and sends " \
               f"FOLLOWERINFO(acceptedEpoch {s.ae})"
        if lk is not None:
            lb, la = before.servers[lk].leader_zab, after.servers[lk].leader_zab
            if la is not None and lb is not None and la[0] > lb[0]:
                text += f"; {self.sid(lk)} now has a quorum and decides epoch {la[1]}"
            elif la is not None:
                text += f"; the epoch candidate is {la[1]}"
        return text

    def say_leaderinfo(self, arg: str, before: World, after: World) -> str:
        k = self.idx(arg)
        p, s = before.servers[k], after.servers[k]
        lk = self.leader_of(before, k)
        epoch = before.servers[lk].leader_zab[1] if lk is not None and \
            before.servers[lk].leader_zab else "?"
        head = f"{arg} receives LEADERINFO({epoch})"
        if s.learner_zab is None:
            return head + (f": older than its acceptedEpoch {p.ae}, an error -- back to "
                           "LOOKING")
        if s.learner_zab[1]:
            return head + ": it already accepted this epoch, so it answers ACKEPOCH(-1)"
        return head + (f", accepts epoch {s.ae} and answers ACKEPOCH(currentEpoch {s.ce}, "
                       f"zxid {zxid(s.zxid)})")

    def say_ackepoch(self, arg: str, before: World, after: World) -> str:
        k = self.idx(arg)
        lk = self.leader_of(before, k)
        ls = str(self.sid(lk)) if lk is not None else "?"
        if after.servers[k].state == L.LOOKING:
            return (f"{ls} reads {arg}'s ACKEPOCH: {arg}'s history is newer than the leader's, "
                    f"so {ls} drops {arg}, which goes back to LOOKING")
        new_hist = [h for h in after.hist if h not in before.hist]
        text = f"{ls} reads {arg}'s ACKEPOCH"
        if before.servers[k].learner_zab and before.servers[k].learner_zab[1]:
            text += " (-1: not counted)"
        for h in new_hist:
            text += (f"; {h[L.H_LEADER]} is ESTABLISHED for epoch {h[L.H_EPOCH]} "
                     f"(acked by {self.group(h[L.H_ACKED])}")
            if lk is not None and after.servers[lk].ce != before.servers[lk].ce:
                text += f", currentEpoch := {h[L.H_EPOCH]}"
            text += ")"
        return text

    def say_setepoch(self, arg: str, before: World, after: World) -> str:
        s = after.servers[self.idx(arg)]
        text = f"{arg} sets currentEpoch {s.ce} and joins the NEWLEADER acks"
        z = s.leader_zab
        if z is not None and z[0] == L.L_BROADCAST:
            text += "; it has a NEWLEADER quorum and starts serving"
        return text

    def say_newleader_ack(self, arg: str, before: World, after: World) -> str:
        k = self.idx(arg)
        lk = self.leader_of(after, k)
        ls = str(self.sid(lk)) if lk is not None else "?"
        text = f"{ls} reads {arg}'s ACK of NEWLEADER"
        if lk is not None:
            lb, la = before.servers[lk].leader_zab, after.servers[lk].leader_zab
            if la is not None and lb is not None and la[0] == L.L_BROADCAST != lb[0]:
                text += f"; {ls} has a NEWLEADER quorum and starts serving"
        return text

    def say_newleader(self, arg: str, before: World, after: World) -> str:
        k = self.idx(arg)
        s = after.servers[k]
        lk = self.leader_of(after, k)
        text = (f"{arg} receives NEWLEADER({s.ce}), syncs to zxid {zxid(s.zxid)}, sets "
                f"currentEpoch {s.ce} and ACKs")
        if lk is not None and s.learner_zab is not None and s.learner_zab[0] != L.Z_ACKSENT:
            lb, la = before.servers[lk].leader_zab, after.servers[lk].leader_zab
            if la is not None and lb is not None and la[0] == L.L_BROADCAST != lb[0]:
                text += f"; {self.sid(lk)} has a NEWLEADER quorum and starts serving"
        return text

    def say_uptodate(self, arg: str, before: World, after: World) -> str:
        s = after.servers[self.idx(arg)]
        pe = s.vote[3] if s.vote else "?"
        return f"{arg} receives UPTODATE and serves (its vote's peerEpoch := {pe})"

    def say_lost(self, arg: str, before: World, after: World) -> str:
        return f"{arg}'s leader is gone or dropped it: back to LOOKING"

    def say_lost_quorum(self, arg: str, before: World, after: World) -> str:
        return f"leader {arg} no longer has a quorum of learners: back to LOOKING"

    def say_giveup(self, arg: str, before: World, after: World) -> str:
        return f"{arg} times out in its role (initLimit/syncLimit) and gives up: back to LOOKING"

    def say_expire(self, arg: str, before: World, after: World) -> str:
        return (f"nothing else can happen: the due timeouts of {arg.replace(',', ', ')} fire "
                "(a LOOKING server re-broadcasts; a leader or learner not yet serving gives "
                "up after initLimit/syncLimit: back to LOOKING)")

    def say_write(self, arg: str, before: World, after: World) -> str:
        s = after.servers[self.idx(arg)]
        return f"leader {arg} logs a client transaction: lastZxid {zxid(s.zxid)}"

    def say_log(self, arg: str, before: World, after: World) -> str:
        s = after.servers[self.idx(arg)]
        return f"{arg} logs the leader's transactions up to zxid {zxid(s.zxid)}"

    def say_transmit(self, arg: str, before: World, after: World) -> str:
        a, b = arg.split("->")
        pair = (self.idx(a), self.idx(b))
        m = before.chans[pair].outbox
        kind = "its answer" if self.origin.get(pair) == "reply" else "its vote"
        if m is not None and m[0] != L.LOOKING:
            kind = f"its {STATE[m[0]]} answer"
        ahead = len(before.chans[pair].wire)
        extra = f" (behind {ahead} in flight)" if ahead else ""
        return f"{a} sends {kind} {_vtext(m) if m else ''} to {b}{extra}"

    def say_deliver(self, arg: str, before: World, after: World) -> str:
        a, b = arg.split("->")
        i, j = self.idx(a), self.idx(b)
        m = before.chans[(i, j)].wire[0]
        receiver = before.servers[j]
        head = f"{a}'s {'vote' if m[0] == L.LOOKING else STATE[m[0]] + ' notification'} " \
               f"{_vtext(m)} arrives at {b}"
        reply = after.chans[(j, i)].outbox
        answered = reply is not None and reply != before.chans[(j, i)].outbox
        started = self._pending_reply(self.step_t, j) and not self._pending_reply(
            self.step_t - 1, j)
        if started:  # --nonatomic-replies: the reply is built and queued by later steps
            head += (" and is queued for its election loop" if receiver.state == L.LOOKING
                     else f", which is {STATE[receiver.state]}")
            return head + f"; {b} starts a reply to {a} (vote read now, round and state later)"
        if not self.m.voter[i]:
            return head + f"; {a} is an observer, so {b} answers directly with its vote"
        if receiver.state == L.LOOKING:
            text = head + " and is queued for its election loop"
            if answered:
                text += (f"; {a} is in an older round, so {b} sends back its proposal "
                         f"{_vtext(reply)}")
            return text
        if answered:
            return head + (f", which is {STATE[receiver.state]}: {b} answers with its current "
                           f"vote {_vtext(reply)}")
        return head + f", which is {STATE[receiver.state]}, and is dropped"

    def _pending_reply(self, t: int, k: int) -> bool:
        """Does server ``k`` hold a reply it has not queued yet (``state.F_REPLY``) in the
        trace's state ``t``?"""
        return len(self.trace.states[t][0][k]) > L.N_FIELDS

    def say_build(self, arg: str, before: World, after: World) -> str:
        a, b = arg.split("->")
        return (f"{a}'s receiver reads its round and state for its reply to {b} (not queued "
                "yet)")

    def say_reply(self, arg: str, before: World, after: World) -> str:
        a, b = arg.split("->")
        i, j = self.idx(a), self.idx(b)
        return f"{a}'s receiver queues its reply {_mtext(after.chans[(i, j)].outbox)} for {b}"

    def say_connect(self, arg: str, before: World, after: World) -> str:
        a, b = arg.split("-")
        resent = [f"{self.sid(i)}->{self.sid(j)}" for (i, j), c in after.chans.items()
                  if len(c.wire) > len(before.chans[(i, j)].wire)]
        text = f"{a} connects to {b} (the larger sid opens the connection)"
        if resent:
            text += f"; the last message is re-sent on {', '.join(resent)}"
        return text

    def say_linkdown(self, arg: str, before: World, after: World) -> str:
        lost = sum(len(c.wire) - len(after.chans[p].wire) for p, c in before.chans.items())
        return f"the connection {arg} breaks; {lost} message(s) in flight are lost"

    def say_crash(self, arg: str, before: World, after: World) -> str:
        lost = sum(len(c.wire) - len(after.chans[p].wire) for p, c in before.chans.items())
        return (f"{arg} crashes: its election state, send queues and {lost} message(s) in "
                "flight are lost; epochs and log survive")

    def say_restart(self, arg: str, before: World, after: World) -> str:
        s = after.servers[self.idx(arg)]
        if not s.up:
            return self._failed_start(arg, "restart", s)
        return (f"{arg} restarts LOOKING with acceptedEpoch {s.ae}, currentEpoch {s.ce}, "
                f"zxid {zxid(s.zxid)}")

    def say_boot(self, arg: str, before: World, after: World) -> str:
        s = after.servers[self.idx(arg)]
        if not s.up:
            return self._failed_start(arg, "first start (late starter)", s)
        return f"{arg} starts for the first time (late starter)"

    @staticmethod
    def _failed_start(arg: str, what: str, s: Any) -> str:
        accepted = "missing" if s.ae < 0 else str(s.ae)
        return (f"{arg}'s {what} fails while loading its epochs (acceptedEpoch file "
                f"{accepted}, currentEpoch file {s.ce}, zxid {zxid(s.zxid)}); it stays down")

    # ------------------------------------------------------------------ table
    def row(self, w: World) -> dict[str, dict[str, str]]:
        row = {}
        for k, s in enumerate(w.servers):
            if not s.up:
                row[self.lane(k)] = {"state": "down", "epochs": f"{s.ae}/{s.ce}"}
                continue
            state = STATE[s.state]
            if s.phase == L.P_FINAL:
                state += " (finalizing)"
            elif s.phase == L.P_IDLE:
                state += " (idle)"
            elif s.phase == L.P_DECIDED:
                state += " (decided)"
            if s.state == L.LOOKING and s.proposal is not None:
                vote = f"({s.proposal[0]}, {zxid(s.proposal[1])}, {s.clock}, {s.proposal[2]})"
            else:
                v = s.result or s.vote
                vote = f"({v[0]}, {zxid(v[1])}, {v[2]}, {v[3]})" if v else "-"
            recv = ", ".join(f"{self.sid(j)}:{v[1]}" + ("" if v[0] == L.LOOKING else
                                                        f" {STATE[v[0]][0]}")
                             for j, v in sorted(s.recv.items()))
            queue = ", ".join(f"{self.sid(j)}:{m[1]}" for j, m in s.queue)
            zab = "-"
            if s.leader_zab is not None:
                ph, epoch, mask, _ = s.leader_zab
                zab = f"{L.L_NAMES[ph]} e{epoch} {self.group(mask)}"
            elif s.learner_zab is not None:
                zab = L.Z_NAMES[s.learner_zab[0]] + (" (-1)" if s.learner_zab[1] else "")
            row[self.lane(k)] = {
                "state": state, "round": str(s.clock), "vote": vote, "recvset": recv or "-",
                "recvqueue": queue or "-", "epochs": f"{s.ae}/{s.ce}", "zab": zab,
            }
        return row

    def detail(self, w: World) -> dict[str, dict[str, str]]:
        """Everything readable about a state, per server and for the network (text diffs)."""
        out: dict[str, dict[str, str]] = {}
        for k, s in enumerate(w.servers):
            d = {"phase": L.PHASE_NAMES[s.phase], "acceptedEpoch": str(s.ae),
                 "currentEpoch": str(s.ce), "lastZxid": zxid(s.zxid)}
            if s.up:
                row = self.row(w)[self.lane(k)]
                d.update({
                    "state": STATE[s.state], "logicalclock": str(s.clock),
                    "proposal": _ktext(s.proposal),
                    "currentVote": _vtext(s.vote) if s.vote else "-",
                    "recvqueue": ", ".join(f"{self.sid(j)}: {_mtext(m)}" for j, m in s.queue)
                    or "-",
                    "recvset": ", ".join(f"{self.sid(j)}: {_mtext(v)}"
                                         for j, v in sorted(s.recv.items())) or "-",
                    "outofelection": ", ".join(f"{self.sid(j)}: {_mtext(v)}"
                                               for j, v in sorted(s.ooe.items())) or "-",
                    "result": _vtext(s.result) if s.result else "-",
                    "zab": row["zab"],
                })
                if s.dec is not None:
                    kind, mask, clock = s.dec
                    d["decided by"] = (f"{L.DEC_NAMES[kind]}, support {self.group(mask)}, "
                                       f"round before {clock}")
            out[f"server {self.sid(k)}"] = d
        net: dict[str, str] = {}
        for (i, j), c in sorted(w.chans.items()):
            name = f"{self.sid(i)}->{self.sid(j)}"
            if c.outbox is not None:
                net[f"{name} queued"] = _mtext(c.outbox)
            if c.wire:
                net[f"{name} in flight"] = " ".join(_mtext(m) for m in c.wire)
            if c.last is not None:
                net[f"{name} last sent"] = _mtext(c.last)
        net["links down"] = self.network(w)["links down"]
        net["budget left"] = ", ".join(f"{n} {v}" for n, v in zip(
            ("crashes", "restarts", "link failures", "timeouts", "writes"), w.budget,
            strict=False))
        out["network"] = net
        out["history"] = {"established": self.network(w)["established"]}
        return out

    def network(self, w: World) -> dict[str, str]:
        flight = [f"{self.sid(i)}->{self.sid(j)}: " + " ".join(_mtext(m) for m in c.wire)
                  for (i, j), c in sorted(w.chans.items()) if c.wire]
        queued = [f"{self.sid(i)}->{self.sid(j)}: {_mtext(c.outbox)}"
                  for (i, j), c in sorted(w.chans.items()) if c.outbox is not None]
        down = [f"{self.sid(i)}-{self.sid(j)}" for i in range(self.n)
                for j in range(i + 1, self.n) if not w.links & L.pair_bit(i, j, self.n)]
        est = [f"epoch {h[L.H_EPOCH]}: leader {h[L.H_LEADER]} (acked by "
               f"{self.group(h[L.H_ACKED])})" for h in w.hist]
        return {"in flight": "; ".join(flight) or "-", "send queues": "; ".join(queued) or "-",
                "links down": ", ".join(down) or "-", "established": "; ".join(est) or "-"}


def _changes(details: list[dict[str, dict[str, str]]]) -> list[dict[str, list[str]]]:
    """Per step, the fields of the detailed view that changed, grouped per server."""
    out: list[dict[str, list[str]]] = [{}]
    for before, after in zip(details, details[1:], strict=False):
        groups: dict[str, list[str]] = {}
        for group in list(after) + [g for g in before if g not in after]:
            b, a = before.get(group, {}), after.get(group, {})
            for name in list(a) + [x for x in b if x not in a]:
                if b.get(name, "-") != a.get(name, "-"):
                    groups.setdefault(group, []).append(
                        f"{name}: {b.get(name, '-')} -> {a.get(name, '-')}")
        out.append(groups)
    return out


def fle_story(model: Any, trace: Trace, prop: str = "", status: str = "") -> Story:
    """The FLE reading of ``trace`` (see the module docstring)."""
    reader = _Reader(model, trace)
    steps = reader.run()
    details = [reader.detail(w) for w in reader.worlds]
    for step, changes in zip(steps, _changes(details), strict=True):
        step.changes = changes
    rows = [reader.row(w) for w in reader.worlds]
    network = [reader.network(w) for w in reader.worlds]
    extra = {name: [n[name] for n in network] for name in network[0]}
    highlight, kind = outcome(trace, status)
    final = reader.worlds[-1]
    summary = ", ".join(
        f"{reader.sid(k)} {reader.state_text(s) if s.up else 'down'}"
        for k, s in enumerate(final.servers))
    lanes = [(str(sid), f"server {sid}" + ("" if model.voter[k] else " (observer)"))
             for k, sid in enumerate(model.sids)]
    variant = getattr(getattr(model, "variant", None), "name", "3.8")
    title = f"FLE, servers {', '.join(map(str, model.sids))} (ZooKeeper {variant})"
    return Story(
        title=title, lanes=lanes, columns=COLUMNS, steps=steps, rows=rows,
        messages=reader.messages, marks=reader.marks, highlight=highlight,
        highlight_kind=kind, loop_start=trace.loop_start, prop=prop, status=status,
        summary=f"final state: {summary}", extra_rows=extra,
        detail=getattr(model, "summary", ""),
        down={(str(model.sids[k]), t) for t, w in enumerate(reader.worlds)
              for k, s in enumerate(w.servers) if not s.up},
    )
