"""k-induction for Leadership on the abstract election + discovery system (unbounded).

Epochs are unbounded Ints and E is a free constant, so a proof covers every epoch and every
run length. Base case: every initial state (any persistent epochs 0 <= currentEpoch <=
acceptedEpoch, nothing running, no history) satisfies the conjunction Inv of the auxiliary
invariants (``leadership_aux``, which include Leadership); with k > 1 also every state
reachable in fewer than k steps. Step: k consecutive states satisfying Inv and linked by the
transition relation are followed by a state satisfying each invariant of Inv, checked one
invariant at a time so that a failure names the invariant. A failure is a counterexample to
induction (CTI): the last pre-state, the action and the post-state; it is not necessarily
reachable, it shows where the invariants are too weak (or, for a broken variant, where the
protocol is).

Sanity (a proof must not be vacuous): the initial condition must be satisfiable, and the
conjunction Inv must hold in some state from which some step is enabled; the result
records both, and ``proven`` is never set when either fails.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import z3

from zkcheck.invariants.leadership_aux import AUX, Aux
from zkcheck.invariants.leadership_quorums import Quorums
from zkcheck.invariants.leadership_z3 import Encoding, Sym, evaluate
from zkcheck.model.discovery_abstract import AbstractVariant


@dataclass
class Snapshot:
    """A concrete abstract state read from a Z3 model: servers, est (history on E), ghosts."""

    servers: tuple
    est: list[bool]
    ack: list[int]

    def state(self, epoch: int) -> tuple:
        """As an explicit ``DiscoveryModel`` state (history: the establishments of E)."""
        return (self.servers, tuple((epoch, lk) for lk, e in enumerate(self.est) if e))


@dataclass
class CTI:
    """Counterexample to induction: from ``pre`` (satisfying every invariant) ``label``
    leads to ``post``, which breaks ``broken``."""

    broken: str
    epoch: int
    label: str
    pre: Snapshot
    post: Snapshot
    earlier: list[tuple[Snapshot, str]] = field(default_factory=list)  # k > 1


@dataclass
class InductionResult:
    n: int
    k: int
    variant: AbstractVariant
    invariants: list[str]
    proven: bool
    base_failure: str | None = None  # invariant false in some initial state
    cti: CTI | None = None
    seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)
    initial_satisfiable: bool = True
    invariant_step_satisfiable: bool | None = None  # None: not checked (earlier failure)


def k_induction(n: int, *, variant: AbstractVariant | None = None, k: int = 1,
                invariants: Sequence[Aux] = AUX,
                quorums: Quorums | None = None) -> InductionResult:
    """Prove Inv (the conjunction of ``invariants``) k-inductive for n servers."""
    if k < 1:
        raise ValueError("k must be >= 1")
    variant = variant or AbstractVariant()
    enc = Encoding(n, variant=variant, quorum_of=quorums.formula if quorums else None)
    start = time.perf_counter()
    out = InductionResult(n, k, variant, [a.name for a in invariants], proven=False)
    states = [enc.fresh(str(j)) for j in range(k + 1)]
    acts = [enc.act_var(str(j)) for j in range(k)]

    def inv(s: Sym) -> z3.BoolRef:
        return z3.And([a.formula(enc, s) for a in invariants])

    base = z3.Solver()
    base.add(enc.init(states[0]))
    if base.check() != z3.sat:
        out.initial_satisfiable = False
        out.seconds = time.perf_counter() - start
        return out
    for j in range(k):
        if j:
            base.add(enc.transition(states[j - 1], states[j], acts[j - 1]))
        for a in invariants:
            base.push()
            base.add(z3.Not(a.formula(enc, states[j])))
            if base.check() == z3.sat:
                out.base_failure = a.name
                out.seconds = time.perf_counter() - start
                return out
            base.pop()
    step = z3.Solver()
    for j in range(k):
        step.add(inv(states[j]), enc.transition(states[j], states[j + 1], acts[j]))
    out.invariant_step_satisfiable = step.check() == z3.sat
    if not out.invariant_step_satisfiable:
        out.seconds = time.perf_counter() - start
        return out
    for a in invariants:
        tick = time.perf_counter()
        step.push()
        step.add(z3.Not(a.formula(enc, states[k])))
        result = step.check()
        out.step_seconds[a.name] = time.perf_counter() - tick
        if result == z3.sat:
            out.cti = _cti(_readable(step, enc, states), enc, states, acts, a.name)
            out.seconds = time.perf_counter() - start
            return out
        if result != z3.unsat:
            raise RuntimeError(f"Z3 answered {result} on the induction step of {a.name}")
        step.pop()
    out.proven = True
    out.seconds = time.perf_counter() - start
    return out


def _readable(solver: z3.Solver, enc: Encoding, states: list[Sym]) -> z3.ModelRef:
    """A model of the (satisfiable) step query, with small epochs if there is one: Z3's
    first model may pick E = -77472, which is as much a CTI but harder to read."""
    first = solver.model()
    bound = 2 * enc.n + 2
    solver.push()
    solver.add(0 <= enc.E, enc.E <= bound)
    for s in states:
        for k in range(enc.n):
            solver.add(*[z3.And(-1 <= x, x <= bound) for x in (s.ae[k], s.ce[k], s.le[k])])
    model = solver.model() if solver.check() == z3.sat else first
    solver.pop()
    return model


def _cti(m: z3.ModelRef, enc: Encoding, states: list[Sym], acts: list, broken: str) -> CTI:
    snaps = [Snapshot(*evaluate(m, s)) for s in states]
    labels = [enc.actions[m.eval(a, model_completion=True).as_long()].label for a in acts]
    epoch = m.eval(enc.E, model_completion=True).as_long()
    earlier = list(zip(snaps[:-2], labels[:-1], strict=True))
    return CTI(broken, epoch, labels[-1], snaps[-2], snaps[-1], earlier)
