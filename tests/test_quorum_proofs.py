"""Z3's answers (intersection, tolerance, odd size, reconfiguration) equal brute force."""

from __future__ import annotations

from math import comb
from pathlib import Path

import pytest
import quorum_oracle as oracle
from hypothesis import given, settings
from test_quorum_verifiers import verifiers

from zkcheck.invariants.quorum_proofs import (
    analyze,
    check_reconfig,
    failure_tolerance,
    odd_size_advice,
    prove_intersection,
)
from zkcheck.invariants.quorum_z3 import QuorumSystem
from zkcheck.model.quorum import QuorumHierarchical, QuorumMaj
from zkcheck.model.zoocfg import load_zoocfg

DATA = Path(__file__).parent / "data" / "zoocfg"


def system(verifier) -> QuorumSystem:
    return QuorumSystem("config", (verifier,))


def assert_like_brute_force(verifier) -> None:
    qs = oracle.quorums([verifier], verifier.voters)
    inter = prove_intersection(system(verifier))
    assert inter.holds == (not oracle.disjoint_pair_exists(qs, qs))
    if not inter.holds:
        a, b = frozenset(inter.quorum_a), frozenset(inter.quorum_b)
        assert a in qs and b in qs and not a & b
    tol = failure_tolerance(system(verifier))
    f, count = oracle.tolerance([verifier], verifier.voters)
    assert (tol.max_failures, tol.blocking_sets) == (f, count)
    assert len(tol.witness) == f + 1 and oracle.kills(frozenset(tol.witness), qs)
    advice = odd_size_advice(verifier, tol)
    if len(verifier.voters) % 2 == 0 and f >= 0:
        assert advice.redundant == oracle.redundant_voters(verifier)
        assert advice.flagged == bool(advice.redundant)
    else:
        assert not advice.flagged


@pytest.mark.parametrize("n", range(1, 10))
def test_majority_of_n(n):
    maj = QuorumMaj(range(1, n + 1))
    result = analyze(maj)
    f = (n - 1) // 2
    assert result.holds and result.intersection.holds
    assert result.tolerance.max_failures == f
    assert result.tolerance.blocking_sets == comb(n, f + 1)
    assert result.odd_size.flagged == (n % 2 == 0)
    if n % 2 == 0:
        assert result.odd_size.smaller_tolerance[1] == f
    assert_like_brute_force(maj)


@pytest.mark.parametrize("name, holds, f", [
    ("hier_3x3", True, 3),
    ("hier_zero_weight", True, 1),
    ("hier_dc_pods", True, 1),
    ("hier_weighted", True, 1),
    ("hier_negative_broken", False, 2),
    ("hier_negative_group", False, 1),
    ("observers", True, 1),
    ("with_dynamic", True, 1),
])
def test_fixture_configs(name, holds, f):
    verifier = load_zoocfg(DATA / f"{name}.cfg").verifier()
    result = analyze(verifier)
    assert result.intersection.holds == holds
    assert result.tolerance.max_failures == f
    assert_like_brute_force(verifier)


def test_admin_guide_example_details():
    verifier = load_zoocfg(DATA / "hier_3x3.cfg").verifier()
    tol = failure_tolerance(system(verifier))
    # Killing a quorum needs two servers in each of two groups: 3 * 3 * 3 = 27 such sets.
    assert tol.blocking_sets == 27
    assert not analyze(verifier).odd_size.flagged


def test_disjoint_quorums_of_the_broken_fixture_are_reported_small():
    verifier = load_zoocfg(DATA / "hier_negative_broken.cfg").verifier()
    inter = prove_intersection(system(verifier))
    assert not inter.holds
    assert {frozenset(inter.quorum_a), frozenset(inter.quorum_b)} & {frozenset({4})}


def test_no_quorum_at_all_is_not_proven():
    verifier = QuorumHierarchical({1: [1], 2: [2]}, {1: -1, 2: -1})
    result = analyze(verifier)
    assert result.intersection.holds and not result.quorum_exists and not result.holds
    assert result.tolerance.max_failures == -1


@settings(max_examples=80, deadline=None)
@given(verifiers())
def test_random_configs_match_brute_force(verifier):
    assert_like_brute_force(verifier)


@settings(max_examples=25, deadline=None)
@given(verifiers(max_servers=9, negative=False))
def test_nonnegative_hierarchical_quorums_always_intersect(verifier):
    # With weights >= 0, two quorums share a counted group and each holds more than half
    # of its weight; Z3 must agree on every such config.
    assert prove_intersection(system(verifier)).holds


def assert_reconfig_like_brute_force(old, new) -> None:
    universe = old.voters | new.voters
    o = oracle.quorums([old], universe)
    n = oracle.quorums([new], universe)
    j = oracle.quorums([old, new], universe)
    rep = check_reconfig(old, new)
    assert rep.old_self.holds == (not oracle.disjoint_pair_exists(o, o))
    assert rep.new_self.holds == (not oracle.disjoint_pair_exists(n, n))
    assert (rep.joint_example is not None) == bool(j)
    if rep.joint_example is not None:
        assert frozenset(rep.joint_example) in j
    assert rep.joint_vs_old.holds == (not oracle.disjoint_pair_exists(j, o))
    assert rep.joint_vs_new.holds == (not oracle.disjoint_pair_exists(j, n))
    assert rep.old_vs_new.holds == (not oracle.disjoint_pair_exists(o, n))
    if not rep.old_vs_new.holds:
        a, b = frozenset(rep.old_vs_new.quorum_a), frozenset(rep.old_vs_new.quorum_b)
        assert a in o and b in n and not a & b
    if j:
        assert rep.joint_tolerance.max_failures == oracle.tolerance([old, new], universe)[0]


@settings(max_examples=60, deadline=None)
@given(verifiers(max_servers=5), verifiers(max_servers=5))
def test_random_reconfigurations_match_brute_force(old, new):
    assert_reconfig_like_brute_force(old, new)


@pytest.mark.parametrize("old, new, holds, old_meets_new", [
    ("maj3", "maj3_other", True, False),
    ("maj3", "maj5", True, False),
    ("maj5", "hier_3x3", True, False),
    ("maj3", "hier_negative_broken", False, False),
])
def test_fixture_reconfigurations(old, new, holds, old_meets_new):
    a = load_zoocfg(DATA / f"{old}.cfg").verifier()
    b = load_zoocfg(DATA / f"{new}.cfg").verifier()
    rep = check_reconfig(a, b)
    assert rep.holds == holds and rep.old_vs_new.holds == old_meets_new
    assert_reconfig_like_brute_force(a, b)


def test_nine_server_proofs_are_fast():
    result = analyze(QuorumMaj(range(1, 10)))
    assert result.intersection.seconds < 2 and result.tolerance.seconds < 5
