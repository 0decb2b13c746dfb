"""The abstract election + Zab discovery rules, written once.

Every action of the abstraction (fle-semantics.md §7, §8.2) is a guard and an effect over a
small state vocabulary (``Vars``), written against an ``Ops`` backend that supplies the
arithmetic, the Boolean connectives, ``ite`` and the quorum test. Two backends interpret
the same definitions:

* ``ConcreteOps`` (``model/discovery_abstract.py``): Python ints and bools, from which the
  explicit model the explorer searches is built;
* ``Z3Ops`` (``invariants/leadership_z3.py``): Z3 terms; the transition relation that BMC
  and the induction proof use is built from it.

So the explicit model and the Z3 relation cannot drift apart: a change (or a seeded bug) in
a rule below changes both. Per server k the vocabulary is ``role, lead, fph, ae, ce, lph,
le`` (ints) and per leader l the rows ``mask[l][f]``, ``conn[l][f]`` (bools); the backends
add what only they need (the explicit history; the symbolic epoch E and ghosts for the
proofs) through the two recording hooks ``establish`` and ``acknowledge``.

The rules are module-level functions on purpose: a test can replace one (a mutant) and both
models change with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

from zkcheck.errors import InputError

LOOKING, FOLLOWING, LEADING = 0, 1, 2
ROLE_NAMES = ("LOOKING", "FOLLOWING", "LEADING")
FP_CONNECT, FP_INFO, FP_ACK, FP_ACK_M1, FP_SYNC, FP_SYNCED = range(6)
FP_NAMES = ("connect", "followerinfo-sent", "ackepoch-sent", "ackepoch(-1)-sent", "syncing",
            "synced")
LP_NONE, LP_DISC, LP_EPOCH, LP_ESTAB = range(4)
LP_NAMES = ("", "discovery", "epoch-decided", "established")
ROLE, LEAD, FPH, AE, CE, LPH, LE, MASK, CONN = range(9)
INT_FIELDS = ("role", "lead", "fph", "ae", "ce", "lph", "le")
MATRIX_FIELDS = ("mask", "conn")


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


class Vars:
    """One state in the vocabulary: per-server int lists, per-leader bool rows, and what the
    backend records (``est``/``ack`` for Z3, ``hist`` for the explicit model)."""

    __slots__ = ("role", "lead", "fph", "ae", "ce", "lph", "le", "mask", "conn",
                 "est", "ack", "hist")

    def __init__(self, **values: Any) -> None:
        for name in Vars.__slots__:
            setattr(self, name, values.get(name))

    @property
    def n(self) -> int:
        return len(self.role)

    def copy(self) -> Vars:
        out = type(self)()
        for name in Vars.__slots__:
            v = getattr(self, name)
            if name in MATRIX_FIELDS:
                v = [list(r) for r in v]
            elif isinstance(v, list):
                v = list(v)
            setattr(out, name, v)
        return out


class Ops(Protocol):
    """What a rule may use besides Python's comparison and + operators."""

    variant: AbstractVariant
    max_epoch: int | None

    def num(self, v: int) -> Any: ...
    def bool_(self, v: bool) -> Any: ...
    def and_(self, *xs: Any) -> Any: ...
    def or_(self, *xs: Any) -> Any: ...
    def not_(self, x: Any) -> Any: ...
    def ite(self, c: Any, a: Any, b: Any) -> Any: ...
    def quorum(self, members: list) -> Any: ...
    def establish(self, t: Vars, lk: int, e: Any, cond: Any) -> None: ...
    def acknowledge(self, t: Vars, f: int, lk: int, old: Any, new: Any, cond: Any) -> None: ...


@dataclass(frozen=True)
class Action:
    """One action instance: the explicit model's label, its kind, server k, leader lk."""

    label: str
    kind: str
    k: int
    lk: int = -1


FOLLOWER_KINDS = ("quit-follower", "followerinfo", "leaderinfo", "ackepoch-count",
                  "ackepoch-skip", "ackepoch-reject", "newleader")
_FOLLOWER_VERB = {"quit-follower": "quit", "ackepoch-count": "ackepoch",
                  "ackepoch-skip": "ackepoch", "ackepoch-reject": "ackepoch"}


def action_list(n: int, variant: AbstractVariant) -> list[Action]:
    """Every action instance for n servers, per server in index order."""
    acts: list[Action] = []
    for k in range(n):
        sid = k + 1
        acts.append(Action(f"lead {sid}", "lead", k))
        acts += [Action(f"follow {sid} -> {lk + 1}", "follow", k, lk)
                 for lk in range(n) if lk != k]
        acts.append(Action(f"quit {sid}", "quit-leader", k))
        acts.append(Action(f"setepoch {sid}", "setepoch", k))
        if variant.epoch_quorum_without_leader:
            acts.append(Action(f"selfinfo {sid}", "selfinfo", k))
        for lk in range(n):
            if lk == k:
                continue
            for kind in FOLLOWER_KINDS:
                verb = _FOLLOWER_VERB.get(kind, kind)
                suffix = " rejected" if kind == "ackepoch-reject" else ""
                acts.append(Action(f"{verb} {sid}{suffix}", kind, k, lk))
    return acts


# ---------------------------------------------------------------------- initial condition

def initial(o: Ops, s: Vars, epochs: Sequence[tuple[int, int]] | None) -> Any:
    """Every server LOOKING with no leader state; persistent epochs as given, or (None) any
    0 <= currentEpoch <= acceptedEpoch (<= max_epoch when bounded)."""
    cs = []
    for k in range(s.n):
        cs += [s.role[k] == LOOKING, s.lead[k] == -1, s.fph[k] == 0, s.lph[k] == LP_NONE,
               s.le[k] == 0]
        cs += [o.not_(x) for x in s.mask[k]] + [o.not_(x) for x in s.conn[k]]
        if epochs is None:
            cs += [0 <= s.ce[k], s.ce[k] <= s.ae[k]]
            if o.max_epoch is not None:
                cs.append(s.ae[k] <= o.max_epoch)
        else:
            cs += [s.ae[k] == epochs[k][0], s.ce[k] == epochs[k][1],
                   0 <= s.ce[k], s.ce[k] <= s.ae[k]]
    return o.and_(*cs)


# ---------------------------------------------------------------------- guards

def alive(o: Ops, s: Vars, k: int, lk: int) -> Any:
    """Follower k's session with lk is alive: lk leads and, once k connected, still has a
    handler for it (a new leadership of the same server starts with none)."""
    return o.and_(s.role[lk] == LEADING, o.or_(s.fph[k] == FP_CONNECT, s.conn[lk][k]))


def ack_counted_allowed(o: Ops, s: Vars, k: int, lk: int) -> Any:
    """The leader's ACKEPOCH check, abstracted to currentEpoch: the follower's is not newer
    (equal epochs: zxids decide, not modelled, so both outcomes are allowed)."""
    return s.ce[k] <= s.ce[lk]


def ack_rejected_allowed(o: Ops, s: Vars, k: int, lk: int) -> Any:
    return s.ce[k] >= s.ce[lk]


def guard(o: Ops, a: Action, s: Vars) -> Any:
    """When action ``a`` is enabled in ``s``."""
    k, lk = a.k, a.lk
    if a.kind in ("lead", "follow"):
        return s.role[k] == LOOKING
    if a.kind == "quit-leader":
        return s.role[k] == LEADING
    if a.kind == "setepoch":
        return o.and_(s.role[k] == LEADING, s.lph[k] == LP_ESTAB, s.ce[k] < s.le[k])
    if a.kind == "selfinfo":
        return o.and_(s.role[k] == LEADING, s.lph[k] == LP_DISC, o.not_(s.mask[k][k]))
    following = o.and_(s.role[k] == FOLLOWING, s.lead[k] == lk)
    if a.kind == "quit-follower":
        return following
    live = o.and_(following, alive(o, s, k, lk))
    if a.kind == "followerinfo":
        return o.and_(live, s.fph[k] == FP_CONNECT)
    if a.kind == "leaderinfo":
        return o.and_(live, s.fph[k] == FP_INFO, s.lph[lk] >= LP_EPOCH)
    counted = o.and_(live, s.fph[k] == FP_ACK, s.lph[lk] == LP_EPOCH)
    if a.kind == "ackepoch-count":
        return o.and_(counted, ack_counted_allowed(o, s, k, lk))
    if a.kind == "ackepoch-reject":
        return o.and_(counted, ack_rejected_allowed(o, s, k, lk))
    if a.kind == "ackepoch-skip":
        return o.and_(live, o.or_(s.fph[k] == FP_ACK_M1, o.and_(
            s.fph[k] == FP_ACK, s.lph[lk] != LP_EPOCH)))
    if a.kind == "newleader":
        return o.and_(live, s.fph[k] == FP_SYNC, s.lph[lk] == LP_ESTAB)
    raise ValueError(a.kind)


# ---------------------------------------------------------------------- effects

def effect(o: Ops, a: Action, s: Vars) -> Vars:
    """The successor of ``s`` under ``a`` (meaningful where the guard holds)."""
    k, lk = a.k, a.lk
    t = s.copy()
    if a.kind == "lead":
        lead(o, t, k)
    elif a.kind == "follow":
        t.role[k], t.lead[k], t.fph[k] = o.num(FOLLOWING), o.num(lk), o.num(FP_CONNECT)
    elif a.kind == "quit-leader":
        set_leader(o, t, k, role=LOOKING, lph=LP_NONE)
    elif a.kind == "selfinfo":
        contribute(o, t, k, k)
    elif a.kind == "setepoch":
        t.ce[k] = s.le[k]
    elif a.kind in ("quit-follower", "ackepoch-reject"):
        quit_follower(o, t, k, lk)
    elif a.kind == "followerinfo":
        t.fph[k] = o.num(FP_INFO)
        t.conn[lk][k] = o.bool_(True)
        u = t.copy()
        contribute(o, u, lk, k)
        merge(o, t, s.lph[lk] == LP_DISC, u, t)
    elif a.kind == "leaderinfo":
        leader_info(o, s, t, k, lk)
    elif a.kind == "ackepoch-count":
        t.fph[k] = o.num(FP_SYNC)
        t.mask[lk][k] = o.bool_(True)
        advance(o, t, lk)
    elif a.kind == "ackepoch-skip":
        t.fph[k] = o.num(FP_SYNC)
    elif a.kind == "newleader":
        t.ce[k], t.fph[k] = s.le[lk], o.num(FP_SYNCED)
    else:
        raise ValueError(a.kind)
    return t


def lead(o: Ops, t: Vars, k: int) -> None:
    """Lead(S): FLE ended with S LEADING. The leader contributes its own acceptedEpoch:
    candidate = ae + 1, connecting = {S} (under ZOOKEEPER-1270 its contribution is the
    later ``selfinfo``)."""
    ae = t.ae[k]
    set_leader(o, t, k, role=LEADING, lph=LP_DISC)
    if o.variant.epoch_quorum_without_leader:
        t.le[k] = o.num(-1)
    else:
        t.le[k] = ae + 1
        t.mask[k][k] = o.bool_(True)
    advance(o, t, k)


def set_leader(o: Ops, t: Vars, k: int, *, role: int, lph: int) -> None:
    """Start (or end) a leadership: no follower state, a fresh leader state."""
    t.role[k], t.lead[k], t.fph[k] = o.num(role), o.num(-1), o.num(0)
    t.lph[k], t.le[k] = o.num(lph), o.num(0)
    t.mask[k] = [o.bool_(False)] * t.n
    t.conn[k] = [o.bool_(False)] * t.n


def quit_follower(o: Ops, t: Vars, k: int, lk: int) -> None:
    """Quit(F): LOOKING with its persistent epochs; its handler at the leader dies."""
    t.role[k], t.lead[k], t.fph[k] = o.num(LOOKING), o.num(-1), o.num(0)
    t.conn[lk][k] = o.bool_(False)


def new_candidate(o: Ops, a: Any, e: Any) -> Any:
    """epoch := max(epoch, a + 1); under ZOOKEEPER-1343 only if a > epoch."""
    bump = a > e if o.variant.epoch_bump_strict else a >= e
    return o.ite(bump, a + 1, e)


def contribute(o: Ops, t: Vars, lk: int, k: int) -> None:
    """k's acceptedEpoch joins lk's undecided epoch, then lk advances."""
    t.le[lk] = new_candidate(o, t.ae[k], t.le[lk])
    t.mask[lk][k] = o.bool_(True)
    advance(o, t, lk)


def leader_info(o: Ops, s: Vars, t: Vars, k: int, lk: int) -> None:
    """LeaderInfo(F): e > ae: ae := e, counted ACKEPOCH; e = ae: ACKEPOCH(-1) (counted under
    the ack-twice test variant); e < ae: error, F goes LOOKING."""
    e = s.le[lk]
    up = t.copy()
    up.ae[k], up.fph[k] = e, o.num(FP_ACK)
    o.acknowledge(up, k, lk, s.ae[k], e, o.bool_(True))
    same = t.copy()
    same.fph[k] = o.num(FP_ACK if o.variant.ack_epoch_twice else FP_ACK_M1)
    low = t.copy()
    quit_follower(o, low, k, lk)
    other = same.copy()
    merge(o, other, accepts_same_epoch(o, e, s.ae[k]), same, low)
    merge(o, t, accepts_epoch(o, e, s.ae[k]), up, other)


def accepts_epoch(o: Ops, e: Any, ae: Any) -> Any:
    """A follower accepts LEADERINFO(e) (and raises acceptedEpoch) iff e > acceptedEpoch."""
    return e > ae


def accepts_same_epoch(o: Ops, e: Any, ae: Any) -> Any:
    return e == ae


def decides(o: Ops, t: Vars, lk: int) -> Any:
    """The epoch is decided: connecting is a quorum containing the leader (ZOOKEEPER-1270),
    and (bounded models) the epoch is within max_epoch."""
    v = o.variant
    return o.and_(t.lph[lk] == LP_DISC, o.quorum(t.mask[lk]),
                  True if v.epoch_quorum_without_leader else t.mask[lk][lk],
                  True if o.max_epoch is None else t.le[lk] <= o.max_epoch)


def establishes(o: Ops, t: Vars, lk: int) -> Any:
    """Established: electing is a quorum containing the leader (ZOOKEEPER-1191)."""
    q = True if o.variant.ack_quorum_not_awaited else o.quorum(t.mask[lk])
    return o.and_(t.lph[lk] == LP_EPOCH, t.mask[lk][lk], q)


def advance(o: Ops, t: Vars, lk: int) -> None:
    """Leader lk passes every phase whose quorum is complete: decision (acceptedEpoch :=
    epoch, electing := {leader}), then establishment (history). Its currentEpoch := epoch
    is the later ``setepoch`` step (``lead()`` calls ``setCurrentEpoch`` after
    ``waitForEpochAck`` returns; a crash in between leaves the old value), which the
    followers' ``newleader`` need not wait for."""
    e = t.le[lk]
    decide = decides(o, t, lk)
    o.acknowledge(t, lk, lk, t.ae[lk], e, decide)
    t.ae[lk] = o.ite(decide, e, t.ae[lk])
    t.lph[lk] = o.ite(decide, o.num(LP_EPOCH), t.lph[lk])
    t.mask[lk] = [o.or_(decide, x) if f == lk else o.and_(o.not_(decide), x)
                  for f, x in enumerate(t.mask[lk])]
    estab = establishes(o, t, lk)
    t.lph[lk] = o.ite(estab, o.num(LP_ESTAB), t.lph[lk])
    t.mask[lk] = [o.and_(o.not_(estab), x) for x in t.mask[lk]]
    o.establish(t, lk, e, estab)


def merge(o: Ops, out: Vars, c: Any, a: Vars, b: Vars) -> None:
    """out := ite(c, a, b), field by field (in place)."""
    for name in Vars.__slots__:
        x, y = getattr(a, name), getattr(b, name)
        if x is None:
            continue
        if name in MATRIX_FIELDS:
            v = [[o.ite(c, p, q) for p, q in zip(rx, ry, strict=True)]
                 for rx, ry in zip(x, y, strict=True)]
        elif isinstance(x, list):
            v = [o.ite(c, p, q) for p, q in zip(x, y, strict=True)]
        else:
            v = o.ite(c, x, y)
        setattr(out, name, v)
