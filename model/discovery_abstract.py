"""The abstract election + Zab discovery system behind ``zkcheck prove leadership``.

The explicit model (for the explorer) is *generated* from the rules of
``model/discovery_rules.py``, evaluated on Python values; the Z3 transition relation of the
proofs is generated from the same rules (``invariants/leadership_z3.py``). What follows
describes those rules.

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
  are not kept); establishment on a quorum of ACKEPOCH containing the leader, which
  appends ``(epoch, leader)`` to the history; the leader's currentEpoch := epoch as a later
  step ``setepoch`` (a leader that quits in between keeps the old value; the explicit model
  takes both in one step when it has no crash budget); NEWLEADER sets a follower's
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
from typing import Any

from zkcheck.errors import InputError
from zkcheck.explorer.model import Property, encode_tuple, invariant, witness
from zkcheck.model import discovery_rules as rules
from zkcheck.model.discovery_rules import (  # noqa: F401  (re-exported vocabulary)
    AE,
    CE,
    CONN,
    FOLLOWING,
    FP_ACK,
    FP_ACK_M1,
    FP_CONNECT,
    FP_INFO,
    FP_NAMES,
    FP_SYNC,
    FP_SYNCED,
    FPH,
    INT_FIELDS,
    LE,
    LEAD,
    LEADING,
    LOOKING,
    LP_DISC,
    LP_EPOCH,
    LP_ESTAB,
    LP_NAMES,
    LP_NONE,
    LPH,
    MASK,
    ROLE,
    ROLE_NAMES,
    AbstractVariant,
    Vars,
)

# ---------------------------------------------------------------------- concrete backend

class ConcreteOps:
    """Python values: the explicit model. ``hist`` is a frozenset of (epoch, leader)."""

    def __init__(self, variant: AbstractVariant, max_epoch: int | None,
                 quorum: Sequence[bool]) -> None:
        self.variant, self.max_epoch, self.table = variant, max_epoch, quorum

    def num(self, v: int) -> int:
        return v

    def bool_(self, v: bool) -> bool:
        return v

    def and_(self, *xs: Any) -> bool:
        return all(xs)

    def or_(self, *xs: Any) -> bool:
        return any(xs)

    def not_(self, x: Any) -> bool:
        return not x

    def ite(self, c: Any, a: Any, b: Any) -> Any:
        return a if c else b

    def quorum(self, members: list) -> bool:
        return self.table[sum(1 << f for f, m in enumerate(members) if m)]

    def establish(self, t: Vars, lk: int, e: Any, cond: Any) -> None:
        if cond:
            t.hist = t.hist | {(e, lk)}

    def acknowledge(self, t: Vars, f: int, lk: int, old: Any, new: Any, cond: Any) -> None:
        """The explicit model keeps no ghosts."""


def to_vars(state: tuple) -> Vars:
    """An explicit state ``(servers, hist)`` as concrete ``Vars``."""
    servers, hist = state
    n = len(servers)
    cols = {name: [s[i] for s in servers] for i, name in enumerate(INT_FIELDS)}
    return Vars(**cols, mask=[[bool(s[MASK] >> f & 1) for f in range(n)] for s in servers],
                conn=[[bool(s[CONN] >> f & 1) for f in range(n)] for s in servers],
                hist=frozenset(hist))


def from_vars(v: Vars) -> tuple:
    servers = tuple(
        (v.role[k], v.lead[k], v.fph[k], v.ae[k], v.ce[k], v.lph[k], v.le[k],
         sum(1 << f for f, x in enumerate(v.mask[k]) if x),
         sum(1 << f for f, x in enumerate(v.conn[k]) if x))
        for k in range(v.n))
    return (servers, tuple(sorted(v.hist)))


_NEEDS_ROLE = {"lead": LOOKING, "follow": LOOKING, "quit-leader": LEADING, "setepoch": LEADING,
               "selfinfo": LEADING, **{kind: FOLLOWING for kind in (
                   "quit-follower", "followerinfo", "leaderinfo", "ackepoch-count",
                   "ackepoch-skip", "ackepoch-reject", "newleader")}}


def majority(n: int) -> tuple[bool, ...]:
    """QuorumMaj answers per bit mask over n voters."""
    return tuple(mask.bit_count() > n // 2 for mask in range(1 << n))


LOOKING_FIELDS = (LOOKING, -1, 0)
NO_LEADER = (LP_NONE, 0, 0, 0)


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
        self.epochs = epochs
        self.ops = ConcreteOps(self.variant, max_epoch, self.quorum)
        self._actions = rules.action_list(n, self.variant)
        self._initial = (tuple(LOOKING_FIELDS + (ae, ce) + NO_LEADER for ae, ce in epochs), ())

    # ------------------------------------------------------------------ Model protocol

    def initial_states(self) -> Sequence[tuple]:
        """The one state with the given epochs, if it satisfies the rules' initial
        condition (a contradictory condition leaves the model without initial states)."""
        ok = rules.initial(self.ops, to_vars(self._initial), self.epochs)
        return [self._initial] if ok else []

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
        """Every enabled action as (label, successor): the rules' guards and effects
        evaluated on this state's values."""
        v = to_vars(state)
        ops = self.ops
        role = v.role
        out: list[tuple[str, tuple]] = []
        for a in self._actions:
            # an index only (which actions can involve server k); the guard decides
            if a.kind in _NEEDS_ROLE and role[a.k] != _NEEDS_ROLE[a.kind]:
                continue
            if a.lk >= 0 and role[a.k] == FOLLOWING and v.lead[a.k] != a.lk:
                continue
            if rules.guard(ops, a, v):
                out.append((a.label, from_vars(rules.effect(ops, a, v))))
        return out

    @property
    def summary(self) -> str:
        bound = "unbounded" if self.max_epoch is None else f"<= {self.max_epoch}"
        return (f"abstract election + Zab discovery, {self.n} servers, majority quorums, "
                f"variant {self.variant.name}, epochs {bound}")


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
