"""The abstract election + discovery system in Z3, generated from the one set of rules.

``model/discovery_rules.py`` defines every action's guard and effect once, against a small
backend interface; ``Z3Ops`` below interprets it on Z3 terms, and the explicit model of
``model/discovery_abstract.py`` interprets it on Python values. One symbolic state ``Sym``
has, per server k, Int (or bit-vector) ``role, lead, fph, ae, ce, lph, le`` and Bool rows
``mask[l][f]``, ``conn[l][f]`` with the meaning of the explicit tuple.

The history of establishments is projected onto one symbolic epoch ``E`` (a constant fixed
for the whole run): ``est[l]`` = "l established epoch E". A violation of Leadership for some
epoch is then a run and a value of E with two ``est`` set, and a proof for a symbolic E is a
proof for every epoch, all without quantifiers. For the induction proof the state also
carries one ghost (history) variable per server, ``ack[f]``: the leader for which f raised
its acceptedEpoch from below E to E (-1: none), recorded through the rules' ``acknowledge``
hook. Ghosts only record, they never enable or disable an action.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from zkcheck.model import discovery_rules as rules
from zkcheck.model.discovery_rules import (
    CONN,
    FP_SYNCED,
    INT_FIELDS,
    MASK,
    MATRIX_FIELDS,
    AbstractVariant,
    Action,
    Vars,
)

SYM_INTS = (*INT_FIELDS, "ack")


class Sym(Vars):
    """One state of n servers as Z3 terms (variables, values or expressions)."""

    __slots__ = ()

    def equals(self, other: Sym) -> z3.BoolRef:
        eqs = []
        for name in (*SYM_INTS, "est"):
            eqs += [a == b for a, b in zip(getattr(self, name), getattr(other, name),
                                           strict=True)]
        for name in MATRIX_FIELDS:
            eqs += [a == b for ra, rb in zip(getattr(self, name), getattr(other, name),
                                             strict=True) for a, b in zip(ra, rb, strict=True)]
        return z3.And(eqs)

    @classmethod
    def fresh(cls, n: int, tag: str, width: int | None = None) -> Sym:
        """New variables named ``field_k@tag``: Ints, or signed bit-vectors of ``width``."""
        def var(name: str) -> z3.ArithRef | z3.BitVecRef:
            return z3.Int(name) if width is None else z3.BitVec(name, width)

        ints = {f: [var(f"{f}_{k}@{tag}") for k in range(n)] for f in SYM_INTS}
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

        ints = {name: [num(s[i]) for s in servers] for i, name in enumerate(INT_FIELDS)}
        mats = {name: [[z3.BoolVal(bool(s[i] >> k & 1)) for k in range(n)] for s in servers]
                for i, name in ((MASK, "mask"), (CONN, "conn"))}
        return cls(**ints, **mats, est=[z3.BoolVal((epoch, lk) in hist) for lk in range(n)],
                   ack=[num(a) for a in (ack if ack is not None else [-1] * n)])


def evaluate(model: z3.ModelRef, s: Sym) -> tuple[tuple, list[bool], list[int]]:
    """(explicit server tuples with an empty history, est, ack) of ``s`` in a Z3 model."""
    def num(t: z3.ExprRef) -> int:
        v = model.eval(t, model_completion=True)
        return v.as_signed_long() if z3.is_bv_value(v) else v.as_long()

    def bit(t: z3.ExprRef) -> bool:
        return z3.is_true(model.eval(t, model_completion=True))

    n = s.n
    servers = tuple(
        (*(num(getattr(s, f)[k]) for f in INT_FIELDS),
         sum(1 << f for f in range(n) if bit(s.mask[k][f])),
         sum(1 << f for f in range(n) if bit(s.conn[k][f])))
        for k in range(n))
    return servers, [bit(x) for x in s.est], [num(x) for x in s.ack]


class Z3Ops:
    """The rules' backend on Z3 terms (Ints, or signed bit-vectors of ``width``)."""

    def __init__(self, variant: AbstractVariant, max_epoch: int | None, width: int | None,
                 E: z3.ExprRef, quorum: Callable[[list], z3.BoolRef]) -> None:
        self.variant, self.max_epoch, self.width, self.E = variant, max_epoch, width, E
        self._quorum = quorum

    def num(self, v: int) -> z3.ExprRef:
        return z3.IntVal(v) if self.width is None else z3.BitVecVal(v, self.width)

    def bool_(self, v: bool) -> z3.BoolRef:
        return z3.BoolVal(v)

    def and_(self, *xs: Any) -> z3.BoolRef:
        return z3.And(*xs)

    def or_(self, *xs: Any) -> z3.BoolRef:
        return z3.Or(*xs)

    def not_(self, x: Any) -> z3.BoolRef:
        return z3.Not(x)

    def ite(self, c: Any, a: Any, b: Any) -> Any:
        return _ite(c, a, b)

    def quorum(self, members: list) -> z3.BoolRef:
        return self._quorum(members)

    def establish(self, t: Vars, lk: int, e: Any, cond: Any) -> None:
        t.est[lk] = z3.Or(t.est[lk], z3.And(cond, e == self.E))

    def acknowledge(self, t: Vars, f: int, lk: int, old: Any, new: Any, cond: Any) -> None:
        first = z3.And(cond, old < self.E, new == self.E, t.ack[f] == -1)
        t.ack[f] = _ite(first, self.num(lk), t.ack[f])


@dataclass
class Encoding:
    """Initial condition, transition relation and properties for n servers, from the rules.

    ``max_epoch`` bounds decided epochs exactly like the explicit model (for BMC);
    ``None`` leaves epochs unbounded (for the induction proof). ``quorum_of`` maps a list of
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
        self.ops = Z3Ops(self.variant, self.max_epoch, self.width, self.E, self.quorum)
        self.actions = rules.action_list(self.n, self.variant)

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
        """Follower k's session with lk is alive (``discovery_rules.alive``)."""
        return rules.alive(self.ops, s, k, lk)

    def init(self, s: Sym, epochs: Sequence[tuple[int, int]] | None = None) -> z3.BoolRef:
        """The rules' initial condition, with no history and no ghosts."""
        return z3.And(rules.initial(self.ops, s, epochs),
                      *[z3.Not(x) for x in s.est], *[a == -1 for a in s.ack])

    def leadership(self, s: Sym) -> z3.BoolRef:
        """No two different leaders established epoch E."""
        return z3.And([z3.Not(z3.And(s.est[a], s.est[b]))
                       for a in range(self.n) for b in range(a + 1, self.n)])

    def epoch_order(self, s: Sym) -> z3.BoolRef:
        return z3.And([s.ce[k] <= s.ae[k] for k in range(self.n)])

    def established(self, s: Sym) -> z3.BoolRef:
        """Some leader established epoch E (the witness of non-vacuity)."""
        return z3.Or(s.est)

    def property(self, name: str) -> Callable[[Sym], z3.BoolRef]:
        return {"Leadership": self.leadership, "EpochOrder": self.epoch_order}[name]

    # ------------------------------------------------------------------ actions

    def apply(self, a: Action, s: Sym) -> tuple[z3.BoolRef, Sym]:
        """(guard, successor terms) of action ``a`` in state ``s``."""
        return self.guard(a, s), self.effect(a, s)

    def guard(self, a: Action, s: Sym) -> z3.BoolRef:
        return rules.guard(self.ops, a, s)

    def effect(self, a: Action, s: Sym) -> Sym:
        return rules.effect(self.ops, a, s)  # type: ignore[return-value]

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
        for name in (*SYM_INTS, "est"):
            for k in range(self.n):
                cases.append(getattr(post, name)[k] == _select(
                    act, getattr(pre, name)[k], [getattr(t, name)[k] for t in results]))
        for name in MATRIX_FIELDS:
            for lk in range(self.n):
                for f in range(self.n):
                    cases.append(getattr(post, name)[lk][f] == _select(
                        act, getattr(pre, name)[lk][f],
                        [getattr(t, name)[lk][f] for t in results]))
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


def _ite(c: Any, p: Any, q: Any) -> Any:
    if p is q or (isinstance(p, z3.ExprRef) and isinstance(q, z3.ExprRef) and p.eq(q)):
        return p
    if c is True or z3.is_true(c):
        return p
    if c is False or z3.is_false(c):
        return q
    return z3.If(c, p, q)
