"""Bounded model checking of the abstract election + discovery system with Z3.

The transition relation (``leadership_z3.Encoding``) is unrolled one step at a time on one
incremental solver; at each depth j every property is checked on the state after exactly j
steps, so the first depth at which a property fails is the length of a shortest
counterexample -- the same number breadth-first search reports for the explicit model
(``model/discovery_abstract.py``) under the same epoch bound. A counterexample is read back
as the sequence of action labels and replayed on the explicit model, which both rebuilds the
full states for the trace reporter and checks that the two encodings agree.

BMC never claims more than it unrolled: a property that survives depth k "holds within
bounds" (depth k); "holds" needs the induction proof (``leadership_induction``).

Two sanity checks ride along: the initial condition must be satisfiable (else every
property would "hold" vacuously), and the unrolling also looks for a *witness*, a shortest
run in which some leader establishes an epoch; a proof about a model in which no leader
can ever be established says nothing (e.g. a quorum system with no quorum). The witness is
replayed on the explicit model too; a disagreement is an ``InternalError``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import z3

from zkcheck.errors import InternalError
from zkcheck.explorer import HOLDS_WITHIN_BOUNDS, VIOLATED, Trace, replay_labels
from zkcheck.invariants.leadership_quorums import Quorums, majority
from zkcheck.invariants.leadership_z3 import Encoding, bv_width
from zkcheck.model.discovery_abstract import AbstractVariant, DiscoveryModel, established

PROPERTIES = ("Leadership", "EpochOrder")


@dataclass
class PropertyResult:
    name: str
    status: str  # VIOLATED or HOLDS_WITHIN_BOUNDS
    depth: int  # depth of the counterexample, or the depth bound reached
    trace: Trace | None = None
    epoch: int | None = None  # the value of E in a Leadership counterexample


@dataclass
class BmcResult:
    n: int
    depth: int
    max_epoch: int
    variant: AbstractVariant
    results: dict[str, PropertyResult] = field(default_factory=dict)
    seconds: float = 0.0
    seconds_per_depth: list[float] = field(default_factory=list)
    initial_satisfiable: bool = True
    witness: Trace | None = None  # a shortest run that establishes some epoch

    @property
    def ok(self) -> bool:
        return all(r.status != VIOLATED for r in self.results.values())


def bmc(n: int, depth: int, *, max_epoch: int = 2, variant: AbstractVariant | None = None,
        properties: Sequence[str] = PROPERTIES, stop_at_first: bool = False,
        epochs: Sequence[tuple[int, int]] | None = None,
        quorums: Quorums | None = None) -> BmcResult:
    """Unroll to ``depth`` steps; per property the shortest counterexample, if any, and the
    shortest run that establishes some epoch."""
    variant = variant or AbstractVariant()
    quorums = quorums or majority(n)
    model = DiscoveryModel(n, max_epoch=max_epoch, variant=variant, initial_epochs=epochs,
                           quorum=quorums.table)
    enc = Encoding(n, variant=variant, max_epoch=max_epoch, width=bv_width(n, max_epoch),
                   quorum_of=quorums.formula)
    start = time.perf_counter()
    solver = z3.SolverFor("QF_FD")
    states = [enc.fresh("0")]
    acts: list[z3.ExprRef] = []
    solver.add(enc.init(states[0], epochs or [(0, 0)] * n))
    out = BmcResult(n, depth, max_epoch, variant)
    if solver.check() != z3.sat:
        out.initial_satisfiable = False
        if model.initial_states():
            raise InternalError("disagreement: the explicit model has an initial state but "
                                "the Z3 initial condition is unsatisfiable")
        out.seconds = time.perf_counter() - start
        return out
    pending = list(properties)
    for j in range(depth + 1):
        tick = time.perf_counter()
        if j > 0:
            states.append(enc.fresh(str(j)))
            acts.append(enc.act_var(str(j - 1)))
            solver.add(enc.transition(states[j - 1], states[j], acts[-1]))
        for name in list(pending):
            solver.push()
            solver.add(z3.Not(enc.property(name)(states[j])))
            if solver.check() == z3.sat:
                out.results[name] = _counterexample(solver.model(), enc, model, acts, name)
                pending.remove(name)
            solver.pop()
        if out.witness is None:
            solver.push()
            solver.add(enc.established(states[j]))
            if solver.check() == z3.sat:
                out.witness = _witness(solver.model(), enc, model, acts)
            solver.pop()
        out.seconds_per_depth.append(time.perf_counter() - tick)
        if (not pending and out.witness is not None) or (
                stop_at_first and len(pending) < len(properties)):
            break
    for name in pending:
        out.results[name] = PropertyResult(name, HOLDS_WITHIN_BOUNDS, depth)
    out.seconds = time.perf_counter() - start
    return out


def _labels(m: z3.ModelRef, enc: Encoding, acts: list[z3.ExprRef]) -> list[str]:
    return [enc.actions[m.eval(a, model_completion=True).as_long()].label for a in acts]


def _replay(model: DiscoveryModel, labels: list[str], what: str) -> Trace:
    try:
        return replay_labels(model, model.initial_states()[0], labels)
    except Exception as exc:  # the explicit model refuses a step Z3 took
        raise InternalError(f"disagreement: the Z3 {what} does not replay on the explicit "
                            f"abstract model ({exc})") from exc


def _witness(m: z3.ModelRef, enc: Encoding, model: DiscoveryModel,
             acts: list[z3.ExprRef]) -> Trace:
    trace = _replay(model, _labels(m, enc, acts), "establishment witness")
    if not established(trace.final):
        raise InternalError("disagreement: the Z3 establishment witness establishes nothing "
                            "on the explicit abstract model")
    return trace


def _counterexample(m: z3.ModelRef, enc: Encoding, model: DiscoveryModel,
                    acts: list[z3.ExprRef], name: str) -> PropertyResult:
    labels = _labels(m, enc, acts)
    trace = _replay(model, labels, f"counterexample for {name}")
    prop = next(p for p in model.properties() if p.name == name)
    if prop.predicate(trace.final):
        raise InternalError(f"disagreement: the Z3 counterexample for {name} does not violate "
                            f"it on the explicit abstract model ({labels})")
    epoch = m.eval(enc.E, model_completion=True).as_signed_long() if (
        name == "Leadership") else None
    return PropertyResult(name, VIOLATED, len(labels), trace, epoch)
