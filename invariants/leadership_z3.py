"""The abstract election + discovery system (``model/discovery_abstract.py``) in Z3.

Written independently of the explicit model, from the same rules, so that the two can be
cross-checked (tests compare every single step and the BMC verdicts with breadth-first
search). One symbolic state ``Sym`` has, per server k, Int ``role, lead, fph, ae, ce, lph,
le`` and Bool matrices ``mask[l][f]``, ``conn[l][f]`` with the meaning of the explicit tuple.

The history of establishments is projected onto one symbolic epoch ``E`` (a constant fixed
for the whole run): ``est[l]`` = "l established epoch E". A violation of Leadership for some
epoch is then a run and a value of E with two ``est`` set, and a proof for a symbolic E is a
proof for every epoch, all without quantifiers. For the induction proof the state also
carries one ghost (history) variable per server, ``ack[f]``: the leader for which f raised
its acceptedEpoch from below E to E (-1: none). Ghosts only record, they never enable or
disable an action, so they do not change the behaviours.

Each action is split per (server, leader) pair so that effects index concrete positions;
``ACTIONS`` lists them with the explicit model's label, so that a BMC counterexample is a
label sequence the explicit model replays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import z3

from zkcheck.model.discovery_abstract import (
    AE,
    CE,
    CONN,
    FOLLOWING,
    FP_ACK,
    FP_ACK_M1,
    FP_CONNECT,
    FP_INFO,
    FP_SYNC,
    FP_SYNCED,
    FPH,
    LE,
    LEAD,
    LEADING,
    LOOKING,
    LP_DISC,
    LP_EPOCH,
    LP_ESTAB,
    LP_NONE,
    LPH,
    MASK,
    ROLE,
    AbstractVariant,
)

INT_FIELDS = ("role", "lead", "fph", "ae", "ce", "lph", "le", "ack")
MATRIX_FIELDS = ("mask", "conn")


@dataclass
class Sym:
    """One state of n servers as Z3 terms (variables, values or expressions)."""

    role: list
    lead: list
    fph: list
    ae: list
    ce: list
    lph: list
    le: list
    ack: list
    est: list
    mask: list
    conn: list

    @property
    def n(self) -> int:
        return len(self.role)

    def copy(self) -> Sym:
        return Sym(*(list(v) if name not in MATRIX_FIELDS else [list(r) for r in v]
                     for name, v in self._items()))

    def _items(self) -> list[tuple[str, list]]:
        return [(f, getattr(self, f)) for f in Sym.__dataclass_fields__]

    def equals(self, other: Sym) -> z3.BoolRef:
        eqs = []
        for name, mine in self._items():
            theirs = getattr(other, name)
            if name in MATRIX_FIELDS:
                eqs += [a == b for ra, rb in zip(mine, theirs, strict=True)
                        for a, b in zip(ra, rb, strict=True)]
            else:
                eqs += [a == b for a, b in zip(mine, theirs, strict=True)]
        return z3.And(eqs)

    @classmethod
    def fresh(cls, n: int, tag: str, width: int | None = None) -> Sym:
        """New variables named ``field_k@tag``: Ints, or signed bit-vectors of ``width``."""
        def var(name: str) -> z3.ArithRef | z3.BitVecRef:
            return z3.Int(name) if width is None else z3.BitVec(name, width)

        ints = {f: [var(f"{f}_{k}@{tag}") for k in range(n)] for f in INT_FIELDS}
        mats = {f: [[z3.Bool(f"{f}_{lk}_{k}@{tag}") for k in range(n)] for lk in range(n)]
                for f in MATRIX_FIELDS}
        return cls(est=[z3.Bool(f"est_{k}@{tag}") for k in range(n)], **ints, **mats)

    @classmethod
    def of(cls, state: tuple, epoch: int | None = None, ack: Sequence[int] | None = None,
           width: int | None = None) -> Sym:
        """The Z3 values of a concrete explicit state; ``est`` projects its history onto
        ``epoch`` (none if None); ``ack`` are ghost values (default: all -1)."""
        servers, hist = state
        n = len(servers)

        def num(v: int) -> z3.ExprRef:
            return z3.IntVal(v) if width is None else z3.BitVecVal(v, width)

        def col(i: int) -> list:
            return [num(s[i]) for s in servers]

        def mat(i: int) -> list:
            return [[z3.BoolVal(bool(s[i] >> k & 1)) for k in range(n)] for s in servers]

        est = [z3.BoolVal((epoch, lk) in hist) for lk in range(n)]
        return cls(role=col(ROLE), lead=col(LEAD), fph=col(FPH), ae=col(AE), ce=col(CE),
                   lph=col(LPH), le=col(LE),
                   ack=[num(a) for a in (ack if ack is not None else [-1] * n)],
                   est=est, mask=mat(MASK), conn=mat(CONN))


def evaluate(model: z3.ModelRef, s: Sym) -> tuple[tuple, list[bool], list[int]]:
    """(explicit server tuples with an empty history, est, ack) of ``s`` in a Z3 model."""
    def num(t: z3.ExprRef) -> int:
        v = model.eval(t, model_completion=True)
        return v.as_signed_long() if z3.is_bv_value(v) else v.as_long()

    def bit(t: z3.ExprRef) -> bool:
        return z3.is_true(model.eval(t, model_completion=True))

    n = s.n
    servers = []
    for k in range(n):
        servers.append((num(s.role[k]), num(s.lead[k]), num(s.fph[k]), num(s.ae[k]),
                        num(s.ce[k]), num(s.lph[k]), num(s.le[k]),
                        sum(1 << f for f in range(n) if bit(s.mask[k][f])),
                        sum(1 << f for f in range(n) if bit(s.conn[k][f]))))
    return tuple(servers), [bit(x) for x in s.est], [num(x) for x in s.ack]


@dataclass(frozen=True)
class Action:
    """One symbolic action: the explicit model's label, the kind, server k, leader lk."""

    label: str
    kind: str
    k: int
    lk: int = -1


@dataclass
class Encoding:
    """Initial condition, transition relation and properties for n servers.

    ``max_epoch`` bounds decided epochs exactly like the explicit model (for BMC);
    ``None`` leaves epochs unbounded (for the induction proof). ``quorum`` maps a list of
    Bool "member" terms to "is a quorum" (default: majority of n).
    """

    n: int
    variant: AbstractVariant = field(default_factory=AbstractVariant)
    max_epoch: int | None = None
    quorum_of: Callable[[list], z3.BoolRef] | None = None
    epoch: int | None = None
    """Fix E to this value instead of a free constant (tests evaluate concrete steps)."""
    width: int | None = None
    """Signed bit-vectors of this width instead of Ints (BMC: bit-blasted, much faster);
    see ``bv_width``."""

    def __post_init__(self) -> None:
        if self.epoch is not None:
            self.E = self.num(self.epoch)
        else:
            self.E = z3.Int("E") if self.width is None else z3.BitVec("E", self.width)
        self.actions = self._action_list()

    # ------------------------------------------------------------------ building blocks

    def num(self, v: int) -> z3.ExprRef:
        return z3.IntVal(v) if self.width is None else z3.BitVecVal(v, self.width)

    def fresh(self, tag: str) -> Sym:
        return Sym.fresh(self.n, tag, self.width)

    def const(self, state: tuple, epoch: int | None = None,
              ack: Sequence[int] | None = None) -> Sym:
        return Sym.of(state, epoch, ack, self.width)

    def act_var(self, tag: str) -> z3.ExprRef:
        if self.width is None:
            return z3.Int(f"act@{tag}")
        return z3.BitVec(f"act@{tag}", len(self.actions).bit_length())

    def quorum(self, members: list) -> z3.BoolRef:
        if self.quorum_of is not None:
            return self.quorum_of(members)
        return z3.AtLeast(*members, self.n // 2 + 1)

    def alive(self, s: Sym, k: int, lk: int) -> z3.BoolRef:
        """Follower k's session with lk is alive (see ``DiscoveryModel.alive``)."""
        return z3.And(s.role[lk] == LEADING, z3.Or(s.fph[k] == FP_CONNECT, s.conn[lk][k]))

    def init(self, s: Sym, epochs: Sequence[tuple[int, int]] | None = None) -> z3.BoolRef:
        """Every server LOOKING with no history and no ghosts; persistent epochs as given,
        or (None) any 0 <= currentEpoch <= acceptedEpoch."""
        cs = []
        for k in range(self.n):
            cs += [s.role[k] == LOOKING, s.lead[k] == -1, s.fph[k] == 0, s.lph[k] == LP_NONE,
                   s.le[k] == 0, s.ack[k] == -1, z3.Not(s.est[k])]
            cs += [z3.Not(s.mask[k][f]) for f in range(self.n)]
            cs += [z3.Not(s.conn[k][f]) for f in range(self.n)]
            if epochs is None:
                cs += [0 <= s.ce[k], s.ce[k] <= s.ae[k]]
                if self.max_epoch is not None:
                    cs.append(s.ae[k] <= self.max_epoch)
            else:
                cs += [s.ae[k] == epochs[k][0], s.ce[k] == epochs[k][1]]
        return z3.And(cs)

    def leadership(self, s: Sym) -> z3.BoolRef:
        """No two different leaders established epoch E."""
        return z3.And([z3.Not(z3.And(s.est[a], s.est[b]))
                       for a in range(self.n) for b in range(a + 1, self.n)])

    def epoch_order(self, s: Sym) -> z3.BoolRef:
        return z3.And([s.ce[k] <= s.ae[k] for k in range(self.n)])

    def property(self, name: str) -> Callable[[Sym], z3.BoolRef]:
        return {"Leadership": self.leadership, "EpochOrder": self.epoch_order}[name]

    # ------------------------------------------------------------------ actions

    def _action_list(self) -> list[Action]:
        acts: list[Action] = []
        n = self.n
        for k in range(n):
            sid = k + 1
            acts.append(Action(f"lead {sid}", "lead", k))
            acts += [Action(f"follow {sid} -> {lk + 1}", "follow", k, lk)
                     for lk in range(n) if lk != k]
            acts.append(Action(f"quit {sid}", "quit-leader", k))
            if self.variant.epoch_quorum_without_leader:
                acts.append(Action(f"selfinfo {sid}", "selfinfo", k))
            for lk in range(n):
                if lk == k:
                    continue
                acts += [Action(f"quit {sid}", "quit-follower", k, lk),
                         Action(f"followerinfo {sid}", "followerinfo", k, lk),
                         Action(f"leaderinfo {sid}", "leaderinfo", k, lk),
                         Action(f"ackepoch {sid}", "ackepoch-count", k, lk),
                         Action(f"ackepoch {sid}", "ackepoch-skip", k, lk),
                         Action(f"ackepoch {sid} rejected", "ackepoch-reject", k, lk),
                         Action(f"newleader {sid}", "newleader", k, lk)]
        return acts

    def apply(self, a: Action, s: Sym) -> tuple[z3.BoolRef, Sym]:
        """(guard, successor terms) of action ``a`` in state ``s``."""
        return self.guard(a, s), self.effect(a, s)

    def guard(self, a: Action, s: Sym) -> z3.BoolRef:
        """When ``a`` is enabled (the guards of ``DiscoveryModel.actions``)."""
        k, lk = a.k, a.lk
        if a.kind in ("lead", "follow"):
            return s.role[k] == LOOKING
        if a.kind == "quit-leader":
            return s.role[k] == LEADING
        if a.kind == "selfinfo":
            return z3.And(s.role[k] == LEADING, s.lph[k] == LP_DISC, z3.Not(s.mask[k][k]))
        following = z3.And(s.role[k] == FOLLOWING, s.lead[k] == lk)
        if a.kind == "quit-follower":
            return following
        live = z3.And(following, self.alive(s, k, lk))
        if a.kind == "followerinfo":
            return z3.And(live, s.fph[k] == FP_CONNECT)
        if a.kind == "leaderinfo":
            return z3.And(live, s.fph[k] == FP_INFO, s.lph[lk] >= LP_EPOCH)
        counted = z3.And(live, s.fph[k] == FP_ACK, s.lph[lk] == LP_EPOCH)
        if a.kind == "ackepoch-count":
            return z3.And(counted, s.ce[k] <= s.ce[lk])
        if a.kind == "ackepoch-reject":
            return z3.And(counted, s.ce[k] >= s.ce[lk])
        if a.kind == "ackepoch-skip":
            return z3.And(live, z3.Or(s.fph[k] == FP_ACK_M1, z3.And(
                s.fph[k] == FP_ACK, s.lph[lk] != LP_EPOCH)))
        if a.kind == "newleader":
            return z3.And(live, s.fph[k] == FP_SYNC, s.lph[lk] == LP_ESTAB)
        raise ValueError(a.kind)

    def effect(self, a: Action, s: Sym) -> Sym:
        """The successor terms of ``a`` (meaningful where its guard holds)."""
        k, lk = a.k, a.lk
        t = s.copy()
        if a.kind == "lead":
            self._set_leader(t, k, role=LEADING, lph=LP_DISC)
            if self.variant.epoch_quorum_without_leader:
                t.le[k] = self.num(-1)
            else:
                t.le[k] = s.ae[k] + 1
                t.mask[k][k] = z3.BoolVal(True)
            self._advance(t, k)
        elif a.kind == "follow":
            t.role[k], t.lead[k], t.fph[k] = self.num(FOLLOWING), self.num(lk), self.num(0)
        elif a.kind == "quit-leader":
            self._set_leader(t, k, role=LOOKING, lph=LP_NONE)
        elif a.kind == "selfinfo":
            self._contribute(t, k, k)
        elif a.kind in ("quit-follower", "ackepoch-reject"):
            self._quit_follower(t, k, lk)
        elif a.kind == "followerinfo":
            t.fph[k] = self.num(FP_INFO)
            t.conn[lk][k] = z3.BoolVal(True)
            u = t.copy()
            self._contribute(u, lk, k)
            _merge(t, s.lph[lk] == LP_DISC, u, t)
        elif a.kind == "leaderinfo":
            e = s.le[lk]
            up = t.copy()
            up.ae[k], up.fph[k] = e, self.num(FP_ACK)
            up.ack[k] = z3.If(z3.And(e == self.E, s.ack[k] == -1), self.num(lk), s.ack[k])
            same = t.copy()
            same.fph[k] = self.num(FP_ACK if self.variant.ack_epoch_twice else FP_ACK_M1)
            low = t.copy()
            self._quit_follower(low, k, lk)
            _merge(t, e > s.ae[k], up, _choose(e == s.ae[k], same, low))
        elif a.kind == "ackepoch-count":
            t.fph[k] = self.num(FP_SYNC)
            t.mask[lk][k] = z3.BoolVal(True)
            self._advance(t, lk)
        elif a.kind == "ackepoch-skip":
            t.fph[k] = self.num(FP_SYNC)
        elif a.kind == "newleader":
            t.ce[k], t.fph[k] = s.le[lk], self.num(FP_SYNCED)
        else:
            raise ValueError(a.kind)
        return t

    def _set_leader(self, t: Sym, k: int, *, role: int, lph: int) -> None:
        t.role[k], t.lead[k], t.fph[k] = self.num(role), self.num(-1), self.num(0)
        t.lph[k], t.le[k] = self.num(lph), self.num(0)
        t.mask[k] = [z3.BoolVal(False)] * self.n
        t.conn[k] = [z3.BoolVal(False)] * self.n

    def _quit_follower(self, t: Sym, k: int, lk: int) -> None:
        t.role[k], t.lead[k], t.fph[k] = self.num(LOOKING), self.num(-1), self.num(0)
        t.conn[lk][k] = z3.BoolVal(False)

    def _contribute(self, t: Sym, lk: int, k: int) -> None:
        """Contribution of k's acceptedEpoch to lk's undecided epoch, then advance."""
        a, e = t.ae[k], t.le[lk]
        bump = a > e if self.variant.epoch_bump_strict else a >= e
        t.le[lk] = z3.If(bump, a + 1, e)
        t.mask[lk][k] = z3.BoolVal(True)
        self._advance(t, lk)

    def _advance(self, t: Sym, lk: int) -> None:
        """Decision, then establishment, each if its quorum is complete (in place)."""
        v, n, e = self.variant, self.n, t.le[lk]
        decide = z3.And(t.lph[lk] == LP_DISC, self.quorum(t.mask[lk]),
                        z3.BoolVal(True) if v.epoch_quorum_without_leader else t.mask[lk][lk],
                        z3.BoolVal(True) if self.max_epoch is None else e <= self.max_epoch)
        first = z3.And(decide, e == self.E, t.ae[lk] < self.E, t.ack[lk] == -1)
        t.ack[lk] = z3.If(first, self.num(lk), t.ack[lk])
        t.ae[lk] = z3.If(decide, e, t.ae[lk])
        t.lph[lk] = z3.If(decide, self.num(LP_EPOCH), t.lph[lk])
        t.mask[lk] = [z3.Or(decide, t.mask[lk][f]) if f == lk else
                      z3.And(z3.Not(decide), t.mask[lk][f]) for f in range(n)]
        quorum = z3.BoolVal(True) if v.ack_quorum_not_awaited else self.quorum(t.mask[lk])
        estab = z3.And(t.lph[lk] == LP_EPOCH, t.mask[lk][lk], quorum)
        t.ce[lk] = z3.If(estab, e, t.ce[lk])
        t.lph[lk] = z3.If(estab, self.num(LP_ESTAB), t.lph[lk])
        t.mask[lk] = [z3.And(z3.Not(estab), x) for x in t.mask[lk]]
        t.est[lk] = z3.Or(t.est[lk], z3.And(estab, e == self.E))

    # ------------------------------------------------------------------ relation

    def transition(self, pre: Sym, post: Sym, act: z3.ExprRef) -> z3.BoolRef:
        """T(pre, post): ``act`` is the index of the action taken.

        Encoded per state component rather than per action: each component of ``post`` is
        an if-then-else over the actions that change it, defaulting to its value in
        ``pre``, so the frame conditions cost nothing (4-5x faster BMC than one full state
        equality per action)."""
        if self.width is None:
            cases = [0 <= act, act < len(self.actions)]
        else:
            cases = [z3.ULT(act, len(self.actions))]
        results = []
        for i, a in enumerate(self.actions):
            guard, t = self.apply(a, pre)
            cases.append(z3.Implies(act == i, guard))
            results.append(t)
        for name in Sym.__dataclass_fields__:
            before = getattr(pre, name)
            after = getattr(post, name)
            if name in MATRIX_FIELDS:
                for lk in range(self.n):
                    for f in range(self.n):
                        cases.append(after[lk][f] == _select(
                            act, before[lk][f], [getattr(t, name)[lk][f] for t in results]))
            else:
                for k in range(self.n):
                    cases.append(after[k] == _select(
                        act, before[k], [getattr(t, name)[k] for t in results]))
        return z3.And(cases)


def _select(act: z3.ExprRef, default: z3.ExprRef, values: list) -> z3.ExprRef:
    """If(act == i, values[i], ...) over the actions whose value differs from default."""
    out = default
    for i in range(len(values) - 1, -1, -1):
        if not values[i].eq(default):
            out = z3.If(act == i, values[i], out)
    return out


def bv_width(n: int, max_epoch: int) -> int:
    """Bits for every value of a run with decided epochs <= max_epoch: the candidate
    epoch reaches max_epoch + 1, indices n - 1, phases 5, and -1 needs the sign."""
    return max(max_epoch + 1, n - 1, FP_SYNCED).bit_length() + 1


def _choose(c: z3.BoolRef, a: Sym, b: Sym) -> Sym:
    out = a.copy()
    _merge(out, c, a, b)
    return out


def _merge(out: Sym, c: z3.BoolRef, a: Sym, b: Sym) -> None:
    """out := If(c, a, b) field by field (in place)."""
    for name in Sym.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if name in MATRIX_FIELDS:
            setattr(out, name, [[_ite(c, p, q) for p, q in zip(rx, ry, strict=True)]
                                for rx, ry in zip(x, y, strict=True)])
        else:
            setattr(out, name, [_ite(c, p, q) for p, q in zip(x, y, strict=True)])


def _ite(c: z3.BoolRef, p: z3.ExprRef, q: z3.ExprRef) -> z3.ExprRef:
    return p if p.eq(q) else z3.If(c, p, q)

