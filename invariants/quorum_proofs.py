"""Z3 proofs about quorum systems: intersection, failure tolerance, odd sizes, reconfiguration.

Every claim is a solver answer over the encodings of ``quorum_z3.py``, i.e. about *all*
sets of servers at once:

* intersection: ``Q(a) and Q(b) and no server in both`` is unsat -> every two quorums
  intersect; sat -> the model is two disjoint quorums (shrunk to small ones for display);
* failure tolerance f: the largest f such that for EVERY set F of at most f failed voters
  some quorum lies inside the surviving voters. Proven by unsat of ``|F| <= f and F meets
  every quorum``; the sat answer at f + 1 is a witness failure set that kills every quorum.
  For monotone systems "F meets every quorum" is just "the survivors are not a quorum"; with
  negative weights it is refined lazily (counterexample-guided: each quorum found inside the
  survivors becomes one more hitting constraint);
* reconfiguration: ZooKeeper's joint rule (SyncedLearnerTracker: an op commits with a quorum
  of the old AND of the new config) -- every joint quorum must meet every old and every new
  quorum, and a joint quorum must exist for the change to commit at all. With weights >= 0
  these intersections follow from each configuration's own (a joint quorum contains a
  quorum of each), so they can fail only with negative weights; what can fail for any
  weights are ZooKeeper's acceptance rules for the new configuration (at least 2 voters
  with standaloneEnabled=true, else 1; a quorum must exist so that one can be connected
  and synced) and the leader-designate rule (every joint quorum contains a voter of the
  new configuration, which can take over when the leader is removed).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import z3

from zkcheck.invariants.quorum_z3 import QuorumSystem, Verifier, bools, members, new_solver
from zkcheck.model.quorum import QuorumHierarchical, QuorumMaj

BLOCKING_SET_CAP = 500


def _check(solver: z3.Solver, *assumptions: z3.BoolRef) -> tuple[z3.CheckSatResult, float]:
    start = time.perf_counter()
    result = solver.check(*assumptions)
    if result == z3.unknown:  # pragma: no cover - finite Boolean problems are decidable
        raise RuntimeError(f"z3 returned unknown: {solver.reason_unknown()}")
    return result, time.perf_counter() - start


def _shrink(system: QuorumSystem, quorum: frozenset[int]) -> frozenset[int]:
    """Drop members (largest sid first) while the set stays a quorum, for readable output."""
    current = set(quorum)
    for sid in sorted(quorum, reverse=True):
        if system.is_quorum(current - {sid}):
            current.discard(sid)
    return frozenset(current)


@dataclass
class Intersection:
    """Whether every quorum of ``first`` meets every quorum of ``second``."""

    first: str
    second: str
    holds: bool
    seconds: float
    quorum_a: tuple[int, ...] | None = None
    quorum_b: tuple[int, ...] | None = None

    def to_json(self) -> dict:
        return {"first": self.first, "second": self.second, "holds": self.holds,
                "z3": "unsat" if self.holds else "sat", "seconds": round(self.seconds, 6),
                "counterexample": None if self.holds else
                {"quorum_a": list(self.quorum_a or ()), "quorum_b": list(self.quorum_b or ())}}


def prove_intersection(first: QuorumSystem, second: QuorumSystem | None = None) -> Intersection:
    """Prove that every quorum of ``first`` meets every quorum of ``second`` (default: itself)."""
    second = second or first
    universe = first.voters | second.voters
    a = bools("a", universe)
    solver = new_solver()
    if second.monotone:
        # B disjoint from A can grow to the complement of A and stay a quorum, so one set
        # of variables suffices: this is not a pigeonhole problem for the solver.
        b = {s: z3.Not(v) for s, v in a.items()}
    else:
        b = bools("b", universe)
        solver.add([z3.Not(z3.And(a[s], b[s])) for s in universe])
    solver.add(first.formula(a), second.formula(b))
    result, seconds = _check(solver)
    if result == z3.unsat:
        return Intersection(first.name, second.name, True, seconds)
    model = solver.model()
    qa = _shrink(first, members(model, a))
    qb = _shrink(second, members(model, b))
    return Intersection(first.name, second.name, False, seconds, tuple(sorted(qa)),
                        tuple(sorted(qb)))


@dataclass
class Tolerance:
    """Failure tolerance of a quorum system over its voters (see the module docstring)."""

    max_failures: int
    witness: tuple[int, ...] | None  # a minimum failure set that kills every quorum
    blocking_sets: int  # how many failure sets of size max_failures + 1 kill every quorum
    capped: bool
    seconds: float
    voters: int

    definition = ("largest f such that for every set of f failed voters a quorum remains "
                  "among the surviving voters")

    def to_json(self) -> dict:
        return {"definition": self.definition, "max_failures": self.max_failures,
                "voters": self.voters, "witness": list(self.witness or ()),
                "blocking_sets_of_size_f_plus_1": self.blocking_sets,
                "blocking_sets_capped": self.capped, "seconds": round(self.seconds, 6)}


class _Blocking:
    """Finds failure sets F (|F| <= k) that meet every quorum, refining lazily if needed."""

    def __init__(self, system: QuorumSystem):
        self.system = system
        self.universe = sorted(system.voters)
        self.failed = bools("f", self.universe)
        self.solver = new_solver()
        if system.monotone:  # survivors not a quorum <=> F meets every quorum
            survivors = {s: z3.Not(v) for s, v in self.failed.items()}
            self.solver.add(z3.Not(system.formula(survivors)))
        self.probe = new_solver()  # "some quorum avoids F", asked with F fixed by assumptions
        self.q = bools("q", self.universe)
        self.probe.add(system.formula(self.q))
        self.seconds = 0.0
        self.bounds: set[int] = set()

    def _quorum_avoiding(self, failed: frozenset[int]) -> frozenset[int] | None:
        result, seconds = _check(self.probe, *[z3.Not(self.q[s]) for s in sorted(failed)])
        self.seconds += seconds
        return members(self.probe.model(), self.q) if result == z3.sat else None

    def _bound(self, bound: int) -> z3.BoolRef:
        """An assumption literal that switches on ``|F| <= bound``."""
        guard = z3.Bool(f"at_most_{bound}")
        if bound not in self.bounds:
            self.bounds.add(bound)
            self.solver.add(z3.Implies(guard, z3.AtMost(*self.failed.values(), bound)))
        return guard

    def find(self, bound: int) -> frozenset[int] | None:
        """A set of at most ``bound`` voters meeting every quorum, or None (proven)."""
        guard = self._bound(bound)
        while True:
            result, seconds = _check(self.solver, guard)
            self.seconds += seconds
            if result == z3.unsat:
                return None
            candidate = members(self.solver.model(), self.failed)
            if self.system.monotone:  # the encoding is exact: no refinement needed
                return candidate
            escape = self._quorum_avoiding(candidate)
            if escape is None:
                return candidate
            self.solver.add(z3.Or([self.failed[s] for s in sorted(escape)]))

    def block(self, failed: frozenset[int]) -> None:
        self.solver.add(z3.Or([z3.Not(v) if s in failed else v
                               for s, v in self.failed.items()]))


def failure_tolerance(system: QuorumSystem, cap: int = BLOCKING_SET_CAP) -> Tolerance:
    """Max f (see module docstring), a witness set of f + 1 voters, and how many there are."""
    search = _Blocking(system)
    n = len(search.universe)
    witness = None
    size = 0
    for size in range(n + 1):
        witness = search.find(size)
        if witness is not None:
            break
    if witness is None:  # no failure set kills every quorum: not even all voters failing
        return Tolerance(n, None, 0, False, search.seconds, n)  # pragma: no cover
    count, capped = 0, False
    found: frozenset[int] | None = witness
    while found is not None and not capped:
        count += 1
        search.block(found)
        found = search.find(size)
        capped = found is not None and count >= cap
    return Tolerance(size - 1, tuple(sorted(witness)), count, capped, search.seconds, n)


@dataclass
class OddSizeAdvice:
    """For an even number of voters: which single voters add no failure tolerance."""

    voters: int
    tolerance: int
    redundant: list[int] = field(default_factory=list)  # removing it keeps the tolerance
    smaller_tolerance: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def flagged(self) -> bool:
        return self.voters % 2 == 0 and bool(self.redundant)

    def message(self) -> str:
        if self.tolerance < 0:
            return f"{self.voters} voters, but no quorum exists: nothing to compare"
        if self.voters % 2:
            return f"{self.voters} voters (odd): nothing to flag"
        if not self.redundant:
            return (f"{self.voters} voters (even), but every voter adds failure tolerance "
                    "for this configuration")
        which = ", ".join(str(s) for s in self.redundant)
        return (f"{self.voters} voters (even) tolerate {self.tolerance} failure(s), no more "
                f"than the {self.voters - 1}-voter ensemble without server {self.redundant[0]}"
                f" (proven by Z3); servers whose removal keeps the tolerance: {which}. "
                "Prefer an odd number of voters.")

    def to_json(self) -> dict:
        return {"voters": self.voters, "even": self.voters % 2 == 0, "flagged": self.flagged,
                "tolerance": self.tolerance, "redundant_voters": self.redundant,
                "tolerance_without": {str(k): v for k, v in self.smaller_tolerance.items()},
                "message": self.message(), "seconds": round(self.seconds, 6)}


def without(verifier: Verifier, sid: int) -> Verifier | None:
    """The verifier of the same config with voter ``sid`` removed (None: no quorum left)."""
    if isinstance(verifier, QuorumMaj):
        rest = verifier.voters - {sid}
        return QuorumMaj(rest) if rest else None
    groups = {g: [s for s in m if s != sid] for g, m in verifier.groups.items()}
    groups = {g: m for g, m in groups.items() if m}
    if not groups:
        return None
    emptied = len(verifier.groups) - len(groups)
    smaller = QuorumHierarchical(groups, verifier.weights, verifier.group_keys - emptied)
    return smaller if smaller.counted_groups else None


def odd_size_advice(verifier: Verifier, tolerance: Tolerance) -> OddSizeAdvice:
    """Prove, for an even ensemble, which one-smaller ensembles tolerate as many failures."""
    n = len(verifier.voters)
    advice = OddSizeAdvice(n, tolerance.max_failures)
    if n % 2 or tolerance.max_failures < 0:
        return advice
    candidates: Iterable[int] = sorted(verifier.voters)
    if isinstance(verifier, QuorumMaj):  # all voters are symmetric under majority
        candidates = candidates[:1] if n else []
    for sid in candidates:
        smaller = without(verifier, sid)
        if smaller is None:
            continue
        result = failure_tolerance(QuorumSystem(f"without {sid}", (smaller,)), cap=1)
        advice.seconds += result.seconds
        advice.smaller_tolerance[sid] = result.max_failures
        if result.max_failures >= tolerance.max_failures:
            advice.redundant.append(sid)
    if isinstance(verifier, QuorumMaj) and advice.redundant:
        advice.redundant = sorted(verifier.voters)
    return advice


@dataclass
class ReconfigReport:
    """What a change from ``old`` to ``new`` keeps and breaks (see module docstring)."""

    old_self: Intersection
    new_self: Intersection
    joint_example: tuple[int, ...] | None
    joint_vs_old: Intersection
    joint_vs_new: Intersection
    old_vs_new: Intersection
    joint_tolerance: Tolerance | None
    new_tolerance: Tolerance
    seconds: float
    refusals: list[str] = field(default_factory=list)  # why ZooKeeper refuses the change
    designate: bool = True  # every joint quorum contains a voter of the new config
    implied: bool = True  # weights >= 0: the joint intersections follow from the configs'

    @property
    def holds(self) -> bool:
        return (not self.refusals and self.designate and self.old_self.holds
                and self.new_self.holds and self.joint_example is not None
                and self.joint_vs_old.holds and self.joint_vs_new.holds)

    def to_json(self) -> dict:
        return {
            "holds": self.holds,
            "old_quorums_intersect": self.old_self.to_json(),
            "new_quorums_intersect": self.new_self.to_json(),
            "joint_quorum_exists": self.joint_example is not None,
            "joint_quorum_example": list(self.joint_example or ()),
            "joint_meets_every_old_quorum": self.joint_vs_old.to_json(),
            "joint_meets_every_new_quorum": self.joint_vs_new.to_json(),
            "old_and_new_quorums_intersect": self.old_vs_new.to_json(),
            "joint_tolerance": self.joint_tolerance.to_json() if self.joint_tolerance else None,
            "new_tolerance": self.new_tolerance.to_json(),
            "zookeeper_refuses": self.refusals,
            "leader_designate_exists": self.designate,
            "intersections_implied_by_nonnegative_weights": self.implied,
            "seconds": round(self.seconds, 6),
        }


def reconfig_refusals(new: Verifier, new_tolerance: Tolerance,
                      standalone_enabled: bool = True) -> list[str]:
    """Why the leader's reconfig check (PrepRequestProcessor) would refuse ``new``."""
    voters = len(new.voters)
    out = []
    if standalone_enabled and voters < 2:
        out.append(f"the new configuration has {voters} voter(s); with standaloneEnabled="
                   "true ZooKeeper requires at least 2")
    elif voters < 1:
        out.append("the new configuration has no voter")
    if voters and new_tolerance.max_failures < 0:
        out.append("no set of voters of the new configuration is a quorum, so no connected "
                   "and synced quorum can exist")
    return out


def check_reconfig(old: Verifier, new: Verifier, *,
                   standalone_enabled: bool = True) -> ReconfigReport:
    """Check ZooKeeper's joint rule and acceptance rules for a change from ``old`` to
    ``new`` (``standalone_enabled`` as in the old file)."""
    o, n = QuorumSystem("old", (old,)), QuorumSystem("new", (new,))
    joint = QuorumSystem("joint", (old, new))
    old_self, new_self = prove_intersection(o), prove_intersection(n)
    x = bools("j", joint.voters)
    solver = new_solver()
    solver.add(joint.formula(x))
    result, seconds = _check(solver)
    example = tuple(sorted(_shrink(joint, members(solver.model(), x)))) \
        if result == z3.sat else None
    vs_old, vs_new = prove_intersection(joint, o), prove_intersection(joint, n)
    old_vs_new = prove_intersection(o, n)
    tolerance = failure_tolerance(joint) if example is not None else None
    total = seconds + sum(i.seconds for i in (old_self, new_self, vs_old, vs_new, old_vs_new))
    new_tolerance = failure_tolerance(n)
    total += (tolerance.seconds if tolerance else 0.0) + new_tolerance.seconds
    designate = new_solver()
    designate.add(joint.formula(x), *[z3.Not(x[s]) for s in sorted(new.voters)])
    result, seconds = _check(designate)
    return ReconfigReport(old_self, new_self, example, vs_old, vs_new, old_vs_new, tolerance,
                          new_tolerance, total + seconds,
                          reconfig_refusals(new, new_tolerance, standalone_enabled),
                          designate=result == z3.unsat, implied=joint.monotone)


@dataclass
class QuorumAnalysis:
    """Everything ``zkcheck prove quorum`` proves about one configuration."""

    intersection: Intersection
    tolerance: Tolerance
    odd_size: OddSizeAdvice
    reconfig: ReconfigReport | None = None

    @property
    def quorum_exists(self) -> bool:
        """False only for weight assignments (negative weights) under which no set is a
        quorum: ZooKeeper could then never elect a leader."""
        return self.tolerance.max_failures >= 0

    @property
    def holds(self) -> bool:
        return (self.intersection.holds and self.quorum_exists
                and (self.reconfig is None or self.reconfig.holds))


def analyze(verifier: Verifier, new: Verifier | None = None, *,
            standalone_enabled: bool = True) -> QuorumAnalysis:
    """Run every proof for ``verifier`` (and the change to ``new`` if given)."""
    system = QuorumSystem("config", (verifier,))
    tolerance = failure_tolerance(system)
    return QuorumAnalysis(prove_intersection(system), tolerance,
                          odd_size_advice(verifier, tolerance),
                          check_reconfig(verifier, new, standalone_enabled=standalone_enabled)
                          if new is not None else None)
