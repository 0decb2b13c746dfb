"""Seeded bugs in the single source of the abstraction make the proof fail; vacuous models
are caught by the sanity checks; internal errors exit 4, never as a verdict."""

from __future__ import annotations

import json

import pytest
from leadership_testlib import covering_sample, z3_successors

from zkcheck.cli import main
from zkcheck.explorer import VIOLATED, Bounds, explore
from zkcheck.invariants.leadership_prove import VACUOUS, prove_leadership
from zkcheck.invariants.leadership_quorums import from_table
from zkcheck.invariants.leadership_z3 import Encoding
from zkcheck.model import discovery_rules as R
from zkcheck.model.discovery_abstract import DiscoveryModel


def _quit_keeps_handler(o, t, k, lk):
    t.role[k], t.lead[k], t.fph[k] = o.num(R.LOOKING), o.num(-1), o.num(0)


MUTANTS = {
    # mutant: (rule replaced, replacement, verdict, BMC Leadership, broken invariant)
    "no session check": ("alive", lambda o, s, k, lk: s.role[lk] == R.LEADING,
                         "induction failed", "SessionAfterDecision"),
    "acks an epoch it already accepted": ("accepts_epoch", lambda o, e, ae: e >= ae,
                                          "induction failed", "PendingAckForLeader"),
    "accepts a lower epoch": ("accepts_epoch", lambda o, e, ae: o.not_(e == ae),
                              "induction failed", "EpochOrder"),
    "establishes without a quorum": (
        "establishes", lambda o, t, lk: o.and_(t.lph[lk] == R.LP_EPOCH, t.mask[lk][lk]),
        "violated", None),
    "handler survives a quit": ("quit_follower", _quit_keeps_handler, "induction failed",
                                "HandlersAreFollowers"),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_a_bug_in_the_single_source_fails_the_proof(monkeypatch, name):
    rule, replacement, verdict, broken = MUTANTS[name]
    monkeypatch.setattr(R, rule, replacement)
    rep = prove_leadership(3, every_n=False)
    assert rep.verdict == verdict and not rep.ok
    if broken is not None:
        assert rep.induction.cti.broken == broken
    else:
        assert rep.bmc.results["Leadership"].depth == 7


def test_a_mutant_changes_both_models_alike(monkeypatch):
    """The explicit model finds the mutant's violation at the BMC length, and every Z3 step
    still equals the explicit step: there is no second copy to drift."""
    rule, replacement, _, _ = MUTANTS["establishes without a quorum"]
    monkeypatch.setattr(R, rule, replacement)
    m = DiscoveryModel(3, max_epoch=1)
    # breadth-first to the BMC length: a violation found is a shortest one (the complete
    # mutated space, ~95,000 interpreted states, adds nothing to this claim)
    verdict = explore(m, search="bfs", bounds=Bounds(max_depth=7)).verdicts["Leadership"]
    assert verdict.status == VIOLATED and len(verdict.trace) == 7
    enc = Encoding(3, max_epoch=1, epoch=1)
    for state in covering_sample(m, per_branch=1, max_depth=8)[:15]:
        explicit = dict(m.actions(state))
        symbolic = z3_successors(enc, state)
        assert {k: v[0] for k, v in symbolic.items()} == {k: v[0] for k, v in explicit.items()}


# ---------------------------------------------------------------------- vacuity

def test_no_set_is_a_quorum_is_vacuous_not_proven():
    rep = prove_leadership(3, quorums=from_table(3, [False] * 8, "none"), every_n=False)
    assert rep.verdict == VACUOUS and not rep.ok
    failed = [c.name for c in rep.sanity if not c.ok]
    assert failed == ["a leader can be established within the BMC bound"]
    # the induction itself goes through: only the sanity check shows the proof is empty
    assert rep.induction.proven


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_contradictory_initial_condition_exits_1(monkeypatch, capsys):
    original = R.initial
    monkeypatch.setattr(R, "initial", lambda o, s, e: o.and_(original(o, s, e), s.ae[0] < 0))
    code, out, err = run(capsys, "prove", "leadership", "--json")
    assert err == "", err
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "vacuous" and doc["exit_code"] == 1
    assert doc["sanity"][0] == {"check": "initial condition satisfiable", "ok": False,
                                "detail": "the initial condition is contradictory: every "
                                          "property would hold vacuously"}


def test_a_bound_too_small_for_any_establishment_is_vacuous(capsys):
    code, out, _ = run(capsys, "prove", "leadership", "--depth", "4", "--bmc-only")
    assert code == 1 and "verdict: VACUOUS (exit 1)" in out
    assert "FAILED: a leader can be established within the BMC bound: no run of <= 4" in out
    code, out, _ = run(capsys, "prove", "leadership", "--depth", "5", "--bmc-only", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["bmc"]["witness_length"] == 5


# ---------------------------------------------------------------------- internal errors

def test_disagreeing_models_exit_4_with_one_line(monkeypatch, capsys):
    real = DiscoveryModel.actions
    monkeypatch.setattr(DiscoveryModel, "actions", lambda self, st: [
        (label, t) for label, t in real(self, st) if not label.startswith("ackepoch")])
    code, out, err = run(capsys, "prove", "leadership", "--bmc-only")
    assert code == 4 and out == ""
    assert err.count("\n") == 1 and err.startswith("zkcheck: internal error: disagreement:")
    assert "Traceback" not in err
    code, _, err = run(capsys, "--debug", "prove", "leadership", "--bmc-only")
    assert code == 4 and "Traceback" in err and "InternalError" in err


def test_unexpected_exception_exits_4(monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise ZeroDivisionError("seeded")
    monkeypatch.setattr("zkcheck.commands.prove_leadership.prove_leadership", boom)
    code, _, err = run(capsys, "prove", "leadership")
    assert code == 4
    assert err.startswith("zkcheck: internal error: unexpected ZeroDivisionError: seeded")
