"""The search of trace validation: a model path whose observable steps are the logged streams.

The search explores model transitions from the episode's initial state, keeping one
position per observed stream (``observations.observed_streams``). A transition that is
observable must produce exactly the next event of its stream, every other transition
(transmit, connect, process without decision, Zab steps ...) is free. It succeeds when
every event is consumed and the model reaches a stable ensemble under the real leader.

A replaced election connection is the model's ``reconnect`` fault, allowed per pair as
often as it was logged (``observations.link_breaks``). A logged "Notification time out" is
the model's Timeout when ``haveDelivered()`` holds (its re-broadcast is logged first);
otherwise ZooKeeper only calls ``connectAll`` (no model step), so the event is consumed
without one exactly when ``have_delivered`` is false. A receipt may be matched by
``observations.state_read_race`` when the search is built with ``races``. A witness found
is replayed step by step (``TraceSearch.replay``) before anyone trusts it.
"""

from __future__ import annotations

import heapq
import itertools

from zkcheck.conformance.fle_log import PEER, RECEIVER
from zkcheck.conformance.guide import TimeGuide
from zkcheck.conformance.observations import (
    OWN,
    STATE_CODE,
    Obs,
    model_observations,
    state_read_race,
)
from zkcheck.conformance.predict import Episode, stable_leader
from zkcheck.model.election import have_delivered
from zkcheck.model.fle import FLEModel
from zkcheck.model.state import B_CRASH, B_RESTART, F_STATE, T_CHANS, T_SERVERS, unpack_vote


class TraceSearch:
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
