"""``prove leadership`` as one call: BMC, k-induction, the every-N proof, and sanity.

Kept out of the command module so that the API (and the tests) get the same answers as the
command line; rendering lives in ``zkcheck/render/prove_leadership.py``.

Verdicts, strongest evidence first: a BMC counterexample is ``violated``; otherwise any
failed sanity check makes the run ``vacuous`` (never ``proven``: a proof about a model with
no initial state, no reachable establishment or no state satisfying the invariant says
nothing); then a failed induction is ``induction failed``. Two analyses that contradict
each other (a BMC counterexample for a system the every-N proof covers) raise
``InternalError``: that is a bug in zkcheck, not a verdict.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from zkcheck.errors import InputError, InternalError
from zkcheck.invariants.leadership_aux import AUX
from zkcheck.invariants.leadership_bmc import BmcResult, bmc
from zkcheck.invariants.leadership_induction import InductionResult, k_induction
from zkcheck.invariants.leadership_param import ParamResult, prove_param
from zkcheck.invariants.leadership_quorums import Quorums, from_verifier, majority
from zkcheck.invariants.quorum_proofs import (
    Intersection,
    failure_tolerance,
    prove_intersection,
)
from zkcheck.invariants.quorum_z3 import QuorumSystem, Verifier
from zkcheck.model.discovery_abstract import AbstractVariant

MAX_SERVERS = 9
PROVEN, HOLDS_WITHIN, VIOLATED_V, INDUCTION_FAILED, VACUOUS = (
    "proven", "holds within bounds", "violated", "induction failed", "vacuous")


@dataclass
class Check:
    """One sanity check: what was asked, the answer, and a one-line reason."""

    name: str
    ok: bool
    detail: str


@dataclass
class LeadershipReport:
    n: int
    variant: AbstractVariant
    quorums: Quorums
    bmc: BmcResult | None
    induction: InductionResult | None
    param: ParamResult | None = None
    intersection: Intersection | None = None  # --config: the user's quorums intersect
    config: str | None = None
    sanity: list[Check] = field(default_factory=list)

    @property
    def sane(self) -> bool:
        return all(c.ok for c in self.sanity)

    @property
    def verdict(self) -> str:
        if self.bmc is not None and not self.bmc.ok:
            return VIOLATED_V
        if self.intersection is not None and not self.intersection.holds:
            return VIOLATED_V
        if not self.sane:
            return VACUOUS
        if self.config is not None:  # the user's system intersects + every-N proof
            return PROVEN if self.param is not None and self.param.proven else INDUCTION_FAILED
        if self.induction is None:
            return HOLDS_WITHIN
        return PROVEN if self.induction.proven else INDUCTION_FAILED

    @property
    def ok(self) -> bool:
        return self.verdict in (PROVEN, HOLDS_WITHIN)


def shortest_establishment(quorums: Quorums) -> int | None:
    """Steps of the shortest run that establishes an epoch: the leader leads, then each
    other member of a smallest quorum follows, sends FOLLOWERINFO, accepts LEADERINFO and
    acknowledges (4 steps each). None: no set is a quorum."""
    q = quorums.smallest
    return None if q is None else 1 + 4 * (q - 1)


def default_depth(quorums: Quorums) -> int:
    """At least 8, and deep enough to contain the shortest establishment."""
    return max(8, shortest_establishment(quorums) or 0)


def _validate(n: int, depth: int | None, max_epoch: int, k: int,
              without: Sequence[str]) -> None:
    if not 1 <= n <= MAX_SERVERS:
        raise InputError(f"--servers must be in 1..{MAX_SERVERS}, got {n}")
    if depth is not None and depth < 0:
        raise InputError(f"--depth must be >= 0, got {depth}")
    if max_epoch < 1:
        raise InputError(f"--max-epoch must be >= 1, got {max_epoch}")
    if k < 1:
        raise InputError(f"--k must be >= 1, got {k}")
    names = {a.name for a in AUX}
    for name in without:
        if name not in names:
            raise InputError(f"unknown invariant {name!r} (known: {', '.join(sorted(names))})")
        if name == "Leadership":
            raise InputError("Leadership is the property being proven; it cannot be dropped")


def prove_leadership(n: int, *, depth: int | None = None, max_epoch: int = 2,
                     bmc_only: bool = False, variant: AbstractVariant | None = None, k: int = 1,
                     without: Sequence[str] = (), quorums: Quorums | None = None,
                     every_n: bool = True) -> LeadershipReport:
    """BMC to ``depth`` (default: ``default_depth``; decided epochs <= max_epoch), then
    (unless ``bmc_only`` or BMC found a counterexample) k-induction with the auxiliary
    invariants minus ``without``, and the every-N proof (default rules only)."""
    _validate(n, depth, max_epoch, k, without)
    variant = variant or AbstractVariant()
    quorums = quorums or majority(n)
    if quorums.n != n:
        raise InputError(f"the quorum system is over {quorums.n} servers, not {n}")
    depth = default_depth(quorums) if depth is None else depth
    result = bmc(n, depth, max_epoch=max_epoch, variant=variant, quorums=quorums)
    rep = LeadershipReport(n, variant, quorums, result, None)
    rep.sanity += bmc_sanity(result)
    if bmc_only or not result.ok:
        return rep
    rep.induction = k_induction(n, variant=variant, k=k, quorums=quorums,
                                invariants=[a for a in AUX if a.name not in without])
    rep.sanity += induction_sanity(rep.induction)
    if every_n and not variant.flags():
        rep.param = every_n_proof()
        rep.sanity += param_sanity(rep.param)
    return rep


def prove_leadership_config(verifier: Verifier, name: str, *, depth: int | None = None,
                            max_epoch: int = 2, bmc_voters: int = 3) -> LeadershipReport:
    """``--config``: the file's quorums intersect (Z3) and Leadership holds for every
    intersecting quorum system (the every-N proof), so it holds for this ensemble. With at
    most ``bmc_voters`` voters BMC also runs on the file's own quorums (a witness that a
    leader can be established there, and a cross-check of the two proofs)."""
    intersection = prove_intersection(QuorumSystem("config", (verifier,)))
    n = len(verifier.voters)
    quorums = from_verifier(verifier, with_table=n <= bmc_voters)
    rep = LeadershipReport(n, AbstractVariant(), quorums, None, None,
                           intersection=intersection, config=name)
    if not intersection.holds:
        return rep  # violated: two disjoint quorums can elect two leaders
    if not _has_quorum(verifier):
        rep.sanity.append(Check("a quorum exists", False, "no set of voters is a quorum: no "
                                "leader can ever be established"))
        return rep
    rep.sanity.append(Check("a quorum exists", True, "some set of voters is a quorum"))
    if n <= bmc_voters:
        depth = default_depth(quorums) if depth is None else depth
        rep.bmc = bmc(n, depth, max_epoch=max_epoch, quorums=quorums)
        rep.sanity += bmc_sanity(rep.bmc)
    rep.param = every_n_proof()
    rep.sanity += param_sanity(rep.param)
    if rep.bmc is not None and not rep.bmc.ok and rep.param.proven:
        raise InternalError("disagreement: BMC found a Leadership counterexample for an "
                            "intersecting quorum system that the every-N proof covers")
    return rep


@functools.cache
def every_n_proof() -> ParamResult:
    """The every-N proof has no parameters: one run per process is enough."""
    return prove_param()


def _has_quorum(verifier: Verifier) -> bool:
    return failure_tolerance(QuorumSystem("config", (verifier,)), cap=1).max_failures >= 0


def bmc_sanity(b: BmcResult) -> list[Check]:
    if not b.initial_satisfiable:
        return [Check("initial condition satisfiable", False,
                      "the initial condition is contradictory: every property would hold "
                      "vacuously")]
    out = [Check("initial condition satisfiable", True, "the initial state exists")]
    if b.witness is not None:
        out.append(Check("a leader can be established within the BMC bound", True,
                         f"shortest witness: {len(b.witness)} steps (bound {b.depth})"))
    else:
        out.append(Check("a leader can be established within the BMC bound", False,
                         f"no run of <= {b.depth} steps establishes an epoch (no quorum, "
                         "or the bound is too small)"))
    return out


def induction_sanity(ind: InductionResult) -> list[Check]:
    if not ind.initial_satisfiable:
        return [Check("induction: initial condition satisfiable", False,
                      "no initial state (any epochs) satisfies the initial condition")]
    if ind.invariant_step_satisfiable is False:
        return [Check("induction: invariant holds in a state with an enabled step", False,
                      "no state satisfies the strengthened invariant and has a successor: "
                      "the induction would prove anything")]
    return [Check("induction: invariant holds in a state with an enabled step", True,
                  "some state satisfies the strengthened invariant and has a successor")]


def param_sanity(p: ParamResult) -> list[Check]:
    out = [Check(f"every N: {name}", ok, detail) for name, (ok, detail) in p.sanity.items()]
    if p.unknown is not None:
        out.append(Check("every N: Z3 answered", False, f"unknown on {p.unknown}"))
    return out
