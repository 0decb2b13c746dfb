"""The parameterized (every N) proof: proven, with teeth, and an over-approximation of the
finite abstract model (every finite step is at most three parameterized steps)."""

from __future__ import annotations

import pytest
import z3
from leadership_testlib import covering_sample

from zkcheck.invariants import leadership_param as P
from zkcheck.model.discovery_abstract import (
    FOLLOWING,
    FP_ACK,
    FP_ACK_M1,
    FP_CONNECT,
    FP_INFO,
    LEADING,
    LP_DISC,
    LP_EPOCH,
    LP_ESTAB,
    DiscoveryModel,
)

_PHASE = {FP_CONNECT: "connect", FP_INFO: "info", FP_ACK: "ackp", FP_ACK_M1: "ackm1"}
_LPHASE = {LP_DISC: "disc", LP_EPOCH: "decided", LP_ESTAB: "estab"}


def test_proven_for_every_n_with_sane_model():
    result = P.prove_param()
    assert result.proven and result.sane and result.unknown is None
    assert set(result.sanity) == {"initial condition satisfiable",
                                  "invariant holds with a step enabled",
                                  "a leader can be established"}


def test_without_quorum_intersection_leadership_is_not_inductive(monkeypatch):
    """The proof uses the intersection axiom: drop it and establishing breaks Leadership."""
    full = P.axioms

    def no_intersection() -> z3.BoolRef:
        return z3.And(full().children()[:3])
    monkeypatch.setattr(P, "axioms", no_intersection)
    result = P.prove_param()
    assert not result.proven
    assert (result.step_failure, result.step_action) == ("Leadership", "establish")


def test_the_ack_once_invariant_is_needed():
    result = P.prove_param(without=("AckOnce",))
    assert not result.proven and result.step_failure == "Leadership"


def test_contradictory_initial_condition_is_caught(monkeypatch):
    original = P.initial
    monkeypatch.setattr(P, "initial", lambda s: z3.And(original(s), z3.BoolVal(False)))
    result = P.prove_param()
    assert not result.proven and not result.sane
    assert result.sanity["initial condition satisfiable"][0] is False
    assert result.sanity["a leader can be established"][0] is False


# ---------------------------------------------------------------------- refinement

class Structure:
    """A finite interpretation: n named nodes, epochs 0..m-1 in order, the given quorums."""

    def __init__(self, n: int, m: int, quorum_masks: list[int]):
        self.nodes = [z3.Const(f"nd{k}", P.Node) for k in range(n)]
        self.eps = [z3.Const(f"ep{i}", P.Epoch) for i in range(m)]
        self.qs = [z3.Const(f"qm{q}", P.Quorum) for q in quorum_masks]
        x, e, q = z3.Const("x", P.Node), z3.Const("e", P.Epoch), z3.Const("q", P.Quorum)
        self.facts = [z3.Distinct(*self.nodes) if n > 1 else z3.BoolVal(True),
                      z3.Distinct(*self.eps), z3.Distinct(*self.qs) if len(self.qs) > 1
                      else z3.BoolVal(True),
                      z3.ForAll([x], z3.Or([x == v for v in self.nodes])),
                      z3.ForAll([e], z3.Or([e == v for v in self.eps])),
                      z3.ForAll([q], z3.Or([q == v for v in self.qs]))]
        self.facts += [P.lt(a, b) == (i < j) for i, a in enumerate(self.eps)
                       for j, b in enumerate(self.eps)]
        self.facts += [P.member(self.nodes[k], qv) == bool(mask >> k & 1)
                       for qv, mask in zip(self.qs, quorum_masks, strict=True)
                       for k in range(n)]

    def alpha(self, ps: P.PState, state: tuple) -> list[z3.BoolRef]:
        """The finite abstract state as facts about ``ps`` (ghosts left free)."""
        servers, hist = state
        nd, cs = self.nodes, []
        for k, s in enumerate(servers):
            role, lead, fph, ae, _ce, lph, le, mask, conn = s
            cs.append(ps.leading(nd[k]) == (role == LEADING))
            cs += [ps.following(nd[k], nd[j]) == (role == FOLLOWING and lead == j)
                   for j in range(len(nd))]
            for fp in P.FOLLOWER_PHASES:
                cs.append(ps.sym[fp](nd[k]) == (role == FOLLOWING
                                                and _PHASE.get(fph, "done") == fp))
            for lp in P.LEADER_PHASES:
                cs.append(ps.sym[lp](nd[k]) == (role == LEADING and _LPHASE[lph] == lp))
            cs += [ps.electing(nd[k], nd[f]) == (role == LEADING and lph == LP_EPOCH
                                                 and bool(mask >> f & 1))
                   for f in range(len(nd))]
            cs += [ps.conn(nd[k], nd[f]) == bool(conn >> f & 1) for f in range(len(nd))]
            cs.append(ps.ae(nd[k]) == self.eps[ae])
            if role == LEADING and lph in (LP_EPOCH, LP_ESTAB):
                cs.append(ps.le(nd[k]) == self.eps[le])
        for i, ev in enumerate(self.eps):
            for k, v in enumerate(nd):
                cs.append(z3.Or([ps.estq(ev, v, q) for q in self.qs]) == ((i, k) in hist))
        return cs


def _reaches(st: Structure, s: tuple, t: tuple, up_to: int = 3) -> int | None:
    """The fewest parameterized steps (<= up_to) from alpha(s) to alpha(t), or None."""
    for steps in (1, 0, *range(2, up_to + 1)):  # most finite steps are one step
        states = [P.PState(f"r{j}") for j in range(steps + 1)]
        solver = z3.Solver()
        solver.add(*st.facts, *st.alpha(states[0], s), *st.alpha(states[-1], t))
        solver.add(*[P.transition(states[j], states[j + 1], f"r{j}") for j in range(steps)])
        if solver.check() == z3.sat:
            return steps
    return None


@pytest.mark.parametrize("name, quorum, lengths_seen", [
    ("majority", None, {1, 2}),
    # an intersecting system that is not a majority: every set containing server 1, so
    # "lead 1" decides and establishes at once (three parameterized steps)
    ("server 1 decides", tuple(bool(m & 1) for m in range(8)), {1, 2, 3}),
])
def test_every_finite_step_is_a_parameterized_run(name, quorum, lengths_seen):
    m = DiscoveryModel(3, max_epoch=1, quorum=quorum)
    masks = [mask for mask in range(8) if m.quorum[mask]]
    st = Structure(3, 4, masks)
    lengths = set()
    for state in covering_sample(m, per_branch=1, max_depth=12)[:14]:
        for label, succ in m.actions(state):
            found = _reaches(st, state, succ)
            assert found is not None, (name, state, label, succ)
            lengths.add(found)
    # single steps (stutters such as NEWLEADER match a quit of nobody), ack + establish
    assert lengths == lengths_seen


def test_the_refinement_check_has_teeth(monkeypatch):
    """Without the counted ACKEPOCH the parameterized model cannot follow the finite one."""
    monkeypatch.setattr(P, "ACTIONS", tuple(a for a in P.ACTIONS
                                            if a.name != "ackepoch-count"))
    m = DiscoveryModel(3, max_epoch=1)
    st = Structure(3, 4, [mask for mask in range(8) if m.quorum[mask]])
    state = next(s for s in covering_sample(m, per_branch=1, max_depth=12)
                 if any(label.startswith("ackepoch") for label, _ in m.actions(s)))
    label, succ = next((lb, t) for lb, t in m.actions(state) if lb.startswith("ackepoch"))
    assert _reaches(st, state, succ) is None, label
