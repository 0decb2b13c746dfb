"""Z3 encodings of ZooKeeper's quorum rules: one Bool per server means "in the set".

Each formula is the rule of ``model/quorum.py`` written as pseudo-boolean constraints
(``AtLeast`` for QuorumMaj, ``PbGe`` weighted sums per group for QuorumHierarchical), so a
solver can reason about *all* sets at once instead of enumerating them. The tests compare
every encoding with the Python verifiers on every subset of small random configurations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import z3

from zkcheck.model.quorum import QuorumHierarchical, QuorumMaj

Verifier = QuorumMaj | QuorumHierarchical


def _weighted_at_least(terms: list[tuple[z3.BoolRef, int]], bound: int) -> z3.BoolRef:
    """sum(w for (x, w) in terms if x) >= bound, as one pseudo-boolean constraint."""
    terms = [(x, w) for x, w in terms if w != 0]
    if not terms:
        return z3.BoolVal(bound <= 0)
    return z3.PbGe(terms, bound)


def quorum_formula(verifier: Verifier, x: Mapping[int, z3.BoolRef]) -> z3.BoolRef:
    """True iff the set ``{s | x[s]}`` restricted to the verifier's voters is a quorum."""
    if isinstance(verifier, QuorumMaj):
        voters = [x[s] for s in sorted(verifier.voters)]
        if not voters:
            return z3.BoolVal(False)
        return z3.AtLeast(*voters, verifier.half + 1)
    majority_groups = []
    for gid, members in verifier.groups.items():
        present = z3.Or([x[s] for s in members])
        heavy = _weighted_at_least(
            [(x[s], verifier.weights[s]) for s in members], verifier.group_threshold(gid) + 1)
        majority_groups.append(z3.And(present, heavy))
    nonempty = z3.Or([x[s] for s in sorted(verifier.voters)])
    enough = z3.AtLeast(*majority_groups, verifier.counted_groups // 2 + 1)
    return z3.And(nonempty, enough)


@dataclass(frozen=True)
class QuorumSystem:
    """Sets that are a quorum of *every* listed verifier (one for a config, two for the
    joint rule of a reconfiguration, as SyncedLearnerTracker counts acks)."""

    name: str
    verifiers: tuple[Verifier, ...]

    @property
    def voters(self) -> frozenset[int]:
        return frozenset().union(*(v.voters for v in self.verifiers))

    @property
    def monotone(self) -> bool:
        """Supersets of quorums are quorums. Holds by construction when every weight is
        >= 0: the formula is then And/Or/AtLeast/PbGe with non-negative coefficients over
        positive literals. Only negative weights (which ZooKeeper accepts) break it."""
        return all(v.monotone for v in self.verifiers)

    def formula(self, x: Mapping[int, z3.BoolRef]) -> z3.BoolRef:
        return z3.And([quorum_formula(v, x) for v in self.verifiers])

    def is_quorum(self, sids: Iterable[int]) -> bool:
        members = set(sids)
        return all(v.is_quorum(members & v.voters) for v in self.verifiers)


def new_solver() -> z3.Solver:
    """A finite-domain solver that reasons on cardinality/PB constraints natively.

    The default solver bit-blasts ``AtLeast`` into sorting networks, and proving that two
    majorities of n voters meet is then a pigeonhole problem that takes minutes from n ~ 25;
    the native PB engine (``sat.pb.solver=solver``) answers n = 51 in under a second.
    """
    s = z3.SolverFor("QF_FD")
    s.set("sat.pb.solver", "solver")
    return s


def bools(prefix: str, sids: Iterable[int]) -> dict[int, z3.BoolRef]:
    return {s: z3.Bool(f"{prefix}{s}") for s in sorted(sids)}


def members(model: z3.ModelRef, x: Mapping[int, z3.BoolRef]) -> frozenset[int]:
    return frozenset(s for s, var in x.items() if z3.is_true(model.eval(var, True)))
