"""The Python verifiers and their Z3 encodings agree with ZooKeeper's rule on every subset."""

from __future__ import annotations

import z3
from hypothesis import given, settings
from hypothesis import strategies as st
from quorum_oracle import java_contains_quorum, subsets

from zkcheck.invariants.quorum_z3 import bools, quorum_formula
from zkcheck.model.quorum import QuorumHierarchical, QuorumMaj, java_half


@st.composite
def verifiers(draw, max_servers: int = 9, negative: bool = True):
    """Random QuorumMaj / QuorumHierarchical over up to ``max_servers`` voters."""
    sids = draw(st.lists(st.integers(0, 12), min_size=1, max_size=max_servers, unique=True))
    if draw(st.booleans()):
        return QuorumMaj(sids)
    n_groups = draw(st.integers(1, min(4, len(sids))))
    owner = [draw(st.integers(0, n_groups - 1)) for _ in sids]
    groups = {g + 1: [s for s, o in zip(sids, owner, strict=True) if o == g]
              for g in range(n_groups)}
    groups = {g: m for g, m in groups.items() if m}
    low = -2 if negative and draw(st.booleans()) else 0
    weights = {s: draw(st.integers(low, 4)) for s in sids}
    return QuorumHierarchical(groups, weights)


def z3_answers(verifier) -> dict[frozenset[int], bool]:
    x = bools("x", verifier.voters)
    formula = quorum_formula(verifier, x)
    out = {}
    for subset in subsets(verifier.voters):
        fixed = z3.substitute(formula, *[(v, z3.BoolVal(s in subset)) for s, v in x.items()])
        out[subset] = z3.is_true(z3.simplify(fixed))
    return out


def test_java_half_truncates_toward_zero():
    assert [java_half(v) for v in (-5, -4, -3, -1, 0, 1, 3, 4, 5)] == [-2, -2, -1, 0, 0, 0, 1,
                                                                       2, 2]


def test_majority_interface_kept_for_the_fle_model():
    maj = QuorumMaj([1, 2, 3, 4])
    assert maj.voter_mask == 0b11110 and maj.half == 2
    assert maj.weight(1) == 1 and maj.weight(9) == 0
    assert maj.is_quorum([1, 2, 3]) and not maj.is_quorum([1, 2])
    assert maj.is_quorum_mask(0b01110) and not maj.is_quorum_mask(0b00110)


def test_admin_guide_example_needs_two_servers_in_two_groups():
    h = QuorumHierarchical({1: [1, 2, 3], 2: [4, 5, 6], 3: [7, 8, 9]}, {})
    assert h.is_quorum({1, 2, 4, 5}) and not h.is_quorum({1, 2, 3, 4, 7})
    assert h.weight(5) == 1 and h.voter_mask == 0b1111111110
    assert h.is_quorum_mask(0b110110) and not h.is_quorum_mask(0b10011110)


def test_zero_weight_groups_are_not_counted_and_zero_weight_servers_never_help():
    h = QuorumHierarchical({1: [0, 1, 2], 2: [3, 4, 5], 3: [6, 7, 8]},
                           {0: 1, 1: 1, 2: 1, **{s: 0 for s in range(3, 9)}})
    assert h.counted_groups == 1
    assert h.is_quorum({0, 1}) and not h.is_quorum({0, 3, 4, 5, 6, 7, 8})
    assert h.weight(4) == 0


def test_negative_weights_follow_java_and_can_split_quorums():
    h = QuorumHierarchical({1: [1, 2, 3], 2: [4, 5]}, {4: 1, 5: -1})
    assert h.counted_groups == 1 and not h.monotone
    assert h.is_quorum({4}) and h.is_quorum({1, 2}) and not h.is_quorum({4, 5})


@settings(max_examples=150, deadline=None)
@given(verifiers())
def test_python_verifier_matches_java_rule_on_every_subset(verifier):
    for subset in subsets(verifier.voters):
        expected = java_contains_quorum(verifier, subset)
        assert verifier.is_quorum(subset) == expected
        mask = sum(1 << s for s in subset)
        assert verifier.is_quorum_mask(mask) == expected


@settings(max_examples=120, deadline=None)
@given(verifiers())
def test_z3_encoding_matches_python_verifier_on_every_subset(verifier):
    for subset, answer in z3_answers(verifier).items():
        assert answer == verifier.is_quorum(subset), sorted(subset)
