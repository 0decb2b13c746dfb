"""The abstract election + Zab discovery system behind ``zkcheck prove leadership``.

Election is over-approximated, discovery is exact (fle-semantics.md §7, §8.2):

* **FLE** is replaced by two free choices of a LOOKING server: ``lead S`` and
  ``follow S -> L`` (any other server). FLE alone does not make the leader unique (§8.1),
  and the proof must not depend on what it happens to do; whatever FLE, the connection
  layer, timeouts, crashes and restarts do, a server's role starts with one of these two.
* **Discovery** follows ``model/zab.py`` step for step: FOLLOWERINFO(acceptedEpoch)
  contributions, epoch := max(epoch, a + 1) (strictly-greater test under ZOOKEEPER-1343),
  decision on a quorum containing the leader (ZOOKEEPER-1270) setting acceptedEpoch,
  LEADERINFO answered by e > ae -> accept and ack, e = ae -> ack -1 (not counted),
  e < ae -> LOOKING; the leader's ACKEPOCH check of the follower's (currentEpoch, lastZxid)
  against its own, abstracted to currentEpoch (equal epochs: either outcome, since zxids
  are not kept); establishment on a quorum of ACKEPOCH containing the leader, which sets
  currentEpoch and appends ``(epoch, leader)`` to the history; NEWLEADER sets a follower's
  currentEpoch.
* **Failures**: ``quit S`` ends any role (timeout, lost leader, lost quorum, crash): the
  persistent epochs stay, the volatile role state goes; a crashed server is a LOOKING one
  that does not move (a stutter). No budgets: any number of quits.

State ``(servers, hist)``; per server (index ``k`` = sid - 1) the tuple
``(role, lead, fph, ae, ce, lph, le, mask, conn)``:

* ``role`` LOOKING/FOLLOWING/LEADING; ``lead`` the followed leader's index (-1 otherwise);
* ``fph`` follower phase (``FP_*``), 0 unless following;
* ``ae``/``ce`` acceptedEpoch/currentEpoch (persistent);
* leader fields (0 unless leading): ``lph`` phase (``LP_*``), ``le`` the candidate or
  decided epoch, ``mask`` connecting (discovery) or electing (epoch decided) as a bit mask
  over indices, 0 once established, ``conn`` followers with a live handler in this
  leadership (the "session alive" test; a new leadership starts with none);
* ``hist``: sorted tuple of ``(epoch, leader index)`` establishment records.

``max_epoch`` bounds the state space for breadth-first search and BMC: a leader may decide
an epoch only if it is <= max_epoch (``None``: unbounded, as in the induction proof).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from zkcheck.errors import InputError
from zkcheck.explorer.model import Property, encode_tuple, invariant, witness

LOOKING, FOLLOWING, LEADING = 0, 1, 2
ROLE_NAMES = ("LOOKING", "FOLLOWING", "LEADING")
FP_CONNECT, FP_INFO, FP_ACK, FP_ACK_M1, FP_SYNC, FP_SYNCED = range(6)
FP_NAMES = ("connect", "followerinfo-sent", "ackepoch-sent", "ackepoch(-1)-sent", "syncing",
            "synced")
LP_NONE, LP_DISC, LP_EPOCH, LP_ESTAB = range(4)
LP_NAMES = ("", "discovery", "epoch-decided", "established")
ROLE, LEAD, FPH, AE, CE, LPH, LE, MASK, CONN = range(9)


@dataclass(frozen=True)
class AbstractVariant:
    """Rules of the discovery slice that historic (or test-only) bugs change; default is
    ZooKeeper 3.8. The first flag is shared with ``zkcheck.model.variants.Variant``; the
    others exist only here, to show that the checkers find real counterexamples."""

    epoch_bump_strict: bool = False
    """ZOOKEEPER-1343 (3.4.0-3.4.2): raise the candidate to a+1 only if a > candidate."""

    epoch_quorum_without_leader: bool = False
    """ZOOKEEPER-1270 (trunk before 3.4.0): the epoch is decided on a quorum of
    contributors even without the leader, whose own FOLLOWERINFO-like contribution is then a
    separate, possibly late step (``selfinfo``); the decision sets the leader's
    acceptedEpoch to the epoch whatever it was."""

    ack_epoch_twice: bool = False
    """Test-only: a follower answers LEADERINFO(e) with e = acceptedEpoch by a counted
    ACKEPOCH instead of -1, i.e. it acknowledges the same epoch twice."""

    ack_quorum_not_awaited: bool = False
    """ZOOKEEPER-1191 (trunk before 3.4.0): the leader proceeds as established without
    waiting for a quorum of ACKEPOCH (here: right after deciding its epoch)."""

    def flags(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name)]

    @property
    def name(self) -> str:
        changed = self.flags()
        return "3.8" + ("+" + ",".join(changed) if changed else "")

    @classmethod
    def from_flags(cls, names: Sequence[str]) -> AbstractVariant:
        known = [f.name for f in fields(cls)]
        for name in names:
            if name not in known:
                raise InputError(f"unknown variant flag {name!r} (known: {', '.join(known)})")
        return cls(**{name: True for name in names})


def majority(n: int) -> tuple[bool, ...]:
    """QuorumMaj answers per bit mask over n voters."""
    return tuple(mask.bit_count() > n // 2 for mask in range(1 << n))


LOOKING_FIELDS = (LOOKING, -1, 0)
NO_LEADER = (LP_NONE, 0, 0, 0)


def looking(s: tuple) -> tuple:
    """``s`` with its role ended: LOOKING, persistent epochs kept."""
    return LOOKING_FIELDS + (s[AE], s[CE]) + NO_LEADER


class DiscoveryModel:
    """The abstract system as an explorer Model (see the module docstring)."""

    def __init__(self, n: int, *, max_epoch: int | None = 2,
                 variant: AbstractVariant | None = None,
                 quorum: Sequence[bool] | None = None,
                 initial_epochs: Sequence[tuple[int, int]] | None = None) -> None:
        if not 1 <= n <= 9:
            raise InputError(f"--servers must be in 1..9 for the abstract model, got {n}")
        if max_epoch is not None and max_epoch < 1:
            raise InputError(f"max epoch must be >= 1, got {max_epoch}")
        self.n = n
        self.name = "discovery-abstract"
        self.max_epoch = max_epoch
        self.variant = variant or AbstractVariant()
        self.quorum = tuple(quorum) if quorum is not None else majority(n)
        epochs = list(initial_epochs or [(0, 0)] * n)
        if len(epochs) != n or any(not 0 <= ce <= ae for ae, ce in epochs):
            raise InputError("initial epochs: one (acceptedEpoch, currentEpoch) per server "
                             "with 0 <= currentEpoch <= acceptedEpoch")
        self.sids = tuple(range(1, n + 1))
        self._initial = (tuple(LOOKING_FIELDS + (ae, ce) + NO_LEADER for ae, ce in epochs), ())

    # ------------------------------------------------------------------ Model protocol

    def initial_states(self) -> Sequence[tuple]:
        return [self._initial]

    def encode(self, state: tuple) -> bytes:
        return encode_tuple(state)

    def properties(self) -> Sequence[Property]:
        return [
            invariant("Leadership", leadership, leadership.__doc__ or ""),
            invariant("EpochOrder", epoch_order, epoch_order.__doc__ or ""),
            witness("Established", established, established.__doc__ or ""),
        ]

    def describe(self, state: tuple) -> dict[str, Any]:
        servers, hist = state
        view: dict[str, Any] = {}
        for k, s in enumerate(servers):
            entry: dict[str, Any] = {"role": ROLE_NAMES[s[ROLE]], "acceptedEpoch": s[AE],
                                     "currentEpoch": s[CE]}
            if s[ROLE] == FOLLOWING:
                entry["leader"] = self.sids[s[LEAD]]
                entry["zab"] = FP_NAMES[s[FPH]]
            elif s[ROLE] == LEADING:
                what = "connecting" if s[LPH] == LP_DISC else "electing"
                entry["zab"] = f"{LP_NAMES[s[LPH]]} epoch {s[LE]}"
                if s[LPH] != LP_ESTAB:
                    entry[what] = self._sids(s[MASK])
                entry["handlers"] = self._sids(s[CONN])
            view[self.sids[k]] = entry
        return {"servers": view,
                "established": [f"epoch {e} by {self.sids[lk]}" for e, lk in hist]}

    def _sids(self, mask: int) -> list[int]:
        return [self.sids[k] for k in range(self.n) if mask >> k & 1]

    # ------------------------------------------------------------------ actions

    def actions(self, state: tuple) -> list[tuple[str, tuple]]:
        """Every enabled action as (label, successor), per server in index order."""
        out: list[tuple[str, tuple]] = []
        servers = state[0]
        for k, s in enumerate(servers):
            sid = self.sids[k]
            role = s[ROLE]
            if role == LOOKING:
                out.append((f"lead {sid}", self.lead(state, k)))
                for lk in range(self.n):
                    if lk != k:
                        out.append((f"follow {sid} -> {self.sids[lk]}",
                                    self.follow(state, k, lk)))
                continue
            out.append((f"quit {sid}", self.quit(state, k)))
            if role == LEADING:
                if (self.variant.epoch_quorum_without_leader and s[LPH] == LP_DISC
                        and not s[MASK] >> k & 1):
                    out.append((f"selfinfo {sid}", self.self_info(state, k)))
                continue
            lk = s[LEAD]
            ls = servers[lk]
            if not self.alive(servers, k):
                continue
            fph = s[FPH]
            if fph == FP_CONNECT:
                out.append((f"followerinfo {sid}", self.follower_info(state, k)))
            elif fph == FP_INFO and ls[LPH] >= LP_EPOCH:
                out.append((f"leaderinfo {sid}", self.leader_info(state, k)))
            elif fph in (FP_ACK, FP_ACK_M1):
                if fph == FP_ACK and ls[LPH] == LP_EPOCH:
                    if s[CE] <= ls[CE]:
                        out.append((f"ackepoch {sid}", self.ack_epoch(state, k, count=True)))
                    if s[CE] >= ls[CE]:
                        out.append((f"ackepoch {sid} rejected", self.ack_reject(state, k)))
                else:
                    out.append((f"ackepoch {sid}", self.ack_epoch(state, k, count=False)))
            elif fph == FP_SYNC and ls[LPH] == LP_ESTAB:
                out.append((f"newleader {sid}", self.new_leader(state, k)))
        return out

    @staticmethod
    def alive(servers: tuple, k: int) -> bool:
        """Follower ``k``'s session is alive: its leader leads and, once ``k`` connected,
        still has a handler for it (a new leadership of the same server starts with none)."""
        s = servers[k]
        ls = servers[s[LEAD]]
        return ls[ROLE] == LEADING and (s[FPH] == FP_CONNECT or bool(ls[CONN] >> k & 1))

    def lead(self, state: tuple, k: int) -> tuple:
        """Lead(S): FLE ended with S LEADING (publish, §5.5/§6). The leader snapshots its
        summary and contributes its own acceptedEpoch: candidate = ae + 1, connecting = {S}
        (under ZOOKEEPER-1270 its contribution is the later ``selfinfo``)."""
        s = state[0][k]
        if self.variant.epoch_quorum_without_leader:
            leader = (LEADING, -1, 0, s[AE], s[CE], LP_DISC, -1, 0, 0)
        else:
            leader = (LEADING, -1, 0, s[AE], s[CE], LP_DISC, s[AE] + 1, 1 << k, 0)
        return self._advance(_put(state, k, leader), k)

    def follow(self, state: tuple, k: int, lk: int) -> tuple:
        """Follow(S, L): FLE ended with S FOLLOWING L (any L: FLE is over-approximated)."""
        s = state[0][k]
        return _put(state, k, (FOLLOWING, lk, FP_CONNECT, s[AE], s[CE]) + NO_LEADER)

    def quit(self, state: tuple, k: int) -> tuple:
        """Quit(S): the role ends (timeout, leader gone, lost quorum, ACKEPOCH error, crash):
        S is LOOKING with its persistent epochs; a follower's handler at its leader dies."""
        servers = state[0]
        s = servers[k]
        state = _put(state, k, looking(s))
        if s[ROLE] == FOLLOWING:
            state = self._drop_handler(state, s[LEAD], k)
        return state

    def self_info(self, state: tuple, k: int) -> tuple:
        """SelfInfo(L) (ZOOKEEPER-1270 variant only): the leader's own contribution."""
        return self._contribute(state, k, k)

    def follower_info(self, state: tuple, k: int) -> tuple:
        """FollowerInfo(F) (§7 f1-f2, L1): F connects; its handler contributes F's
        acceptedEpoch while the epoch is undecided; afterwards F just waits."""
        s = state[0][k]
        lk = s[LEAD]
        state = _put(state, k, s[:FPH] + (FP_INFO,) + s[FPH + 1:])
        ls = state[0][lk]
        state = _put(state, lk, ls[:CONN] + (ls[CONN] | 1 << k,))
        if ls[LPH] != LP_DISC:
            return state
        return self._contribute(state, lk, k)

    def _contribute(self, state: tuple, lk: int, k: int) -> tuple:
        ls = state[0][lk]
        a = state[0][k][AE]
        e = ls[LE]
        if a > e or (a == e and not self.variant.epoch_bump_strict):
            e = a + 1
        ls = ls[:LE] + (e, ls[MASK] | 1 << k) + ls[CONN:]
        return self._advance(_put(state, lk, ls), lk)

    def leader_info(self, state: tuple, k: int) -> tuple:
        """LeaderInfo(F) (§7 f3): e > ae: ae := e, ACKEPOCH(currentEpoch); e = ae:
        ACKEPOCH(-1) (counted under the ack-twice test variant); e < ae: error, LOOKING."""
        s = state[0][k]
        e = state[0][s[LEAD]][LE]
        if e > s[AE]:
            return _put(state, k, (FOLLOWING, s[LEAD], FP_ACK, e, s[CE]) + NO_LEADER)
        if e == s[AE]:
            ph = FP_ACK if self.variant.ack_epoch_twice else FP_ACK_M1
            return _put(state, k, s[:FPH] + (ph,) + s[FPH + 1:])
        return self.quit(state, k)

    def ack_epoch(self, state: tuple, k: int, *, count: bool) -> tuple:
        """AckEpoch(F) (§7 L3): the leader reads F's ACKEPOCH; while its epoch is decided but
        not established an ack that is not -1 and not newer than the leader's summary joins
        ``electing`` (possibly establishing the leader). F then waits for NEWLEADER."""
        s = state[0][k]
        lk = s[LEAD]
        state = _put(state, k, s[:FPH] + (FP_SYNC,) + s[FPH + 1:])
        if not count:
            return state
        ls = state[0][lk]
        state = _put(state, lk, ls[:MASK] + (ls[MASK] | 1 << k,) + ls[CONN:])
        return self._advance(state, lk)

    def ack_reject(self, state: tuple, k: int) -> tuple:
        """AckEpoch(F) rejected (§7 L3): F's (currentEpoch, lastZxid) is newer than the
        leader's; F's handler fails and F goes LOOKING. Enabled when F's currentEpoch is >=
        the leader's (for equal epochs the zxids, not modelled, decide)."""
        return self.quit(state, k)

    def new_leader(self, state: tuple, k: int) -> tuple:
        """NewLeader(F) (§7 f4): after sync F sets currentEpoch := e and ACKs."""
        s = state[0][k]
        e = state[0][s[LEAD]][LE]
        return _put(state, k, (FOLLOWING, s[LEAD], FP_SYNCED, s[AE], e) + NO_LEADER)

    def _advance(self, state: tuple, lk: int) -> tuple:
        """Leader ``lk`` passes every phase whose quorum is complete: decision (connecting
        contains the leader and is a quorum; acceptedEpoch := epoch; bounded by max_epoch),
        then establishment (electing contains the leader and is a quorum; currentEpoch :=
        epoch; history record)."""
        servers, hist = state
        ls = servers[lk]
        bit = 1 << lk
        v = self.variant
        if ls[LPH] == LP_DISC and self.quorum[ls[MASK]] and (
                ls[MASK] & bit or v.epoch_quorum_without_leader) and (
                self.max_epoch is None or ls[LE] <= self.max_epoch):
            ls = (LEADING, -1, 0, ls[LE], ls[CE], LP_EPOCH, ls[LE], bit, ls[CONN])
        if ls[LPH] == LP_EPOCH and ls[MASK] & bit and (
                self.quorum[ls[MASK]] or v.ack_quorum_not_awaited):
            ls = (LEADING, -1, 0, ls[AE], ls[LE], LP_ESTAB, ls[LE], 0, ls[CONN])
            hist = tuple(sorted(set(hist) | {(ls[LE], lk)}))
        return _put((servers, hist), lk, ls)

    @staticmethod
    def _drop_handler(state: tuple, lk: int, k: int) -> tuple:
        ls = state[0][lk]
        if ls[ROLE] != LEADING or not ls[CONN] >> k & 1:
            return state
        return _put(state, lk, ls[:CONN] + (ls[CONN] & ~(1 << k),))

    @property
    def summary(self) -> str:
        bound = "unbounded" if self.max_epoch is None else f"<= {self.max_epoch}"
        return (f"abstract election + Zab discovery, {self.n} servers, majority quorums, "
                f"variant {self.variant.name}, epochs {bound}")


def _put(state: tuple, k: int, server: tuple) -> tuple:
    servers, hist = state
    return (servers[:k] + (server,) + servers[k + 1:], hist)


def leadership(state: tuple) -> bool:
    """Leadership (§8.2): no two different leaders established the same epoch."""
    hist = state[1]
    return all(a[0] != b[0] for a, b in zip(hist, hist[1:], strict=False))


def epoch_order(state: tuple) -> bool:
    """EpochOrder: every server has currentEpoch <= acceptedEpoch (§2.1)."""
    return all(s[CE] <= s[AE] for s in state[0])


def established(state: tuple) -> bool:
    """Witness Established: some leader established an epoch (the model is not vacuous)."""
    return bool(state[1])
