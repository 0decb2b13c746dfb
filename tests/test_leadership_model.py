"""The abstract discovery model: BFS verdicts, and every Z3 step equals the explicit one."""

from __future__ import annotations

import pytest
from leadership_testlib import covering_sample, z3_successors

from zkcheck.errors import InputError
from zkcheck.explorer import HOLDS, VIOLATED, explore
from zkcheck.invariants.leadership_z3 import Encoding
from zkcheck.model.discovery_abstract import AbstractVariant, DiscoveryModel


def test_default_rules_hold_exhaustively_and_leaders_do_establish():
    result = explore(DiscoveryModel(3, max_epoch=1), search="bfs")
    assert result.complete
    assert result.verdicts["Leadership"].status == HOLDS
    assert result.verdicts["EpochOrder"].status == HOLDS
    assert result.verdicts["Established"].trace is not None


@pytest.mark.parametrize("flag, length", [("ack_quorum_not_awaited", 7),
                                          ("ack_epoch_twice", 14)])
def test_broken_variants_violate_leadership(flag, length):
    m = DiscoveryModel(3, max_epoch=1, variant=AbstractVariant.from_flags([flag]))
    verdict = explore(m, search="bfs").verdicts["Leadership"]
    assert verdict.status == VIOLATED and len(verdict.trace) == length


def test_bad_input():
    with pytest.raises(InputError):
        DiscoveryModel(0)
    with pytest.raises(InputError):
        AbstractVariant.from_flags(["no_such_flag"])


@pytest.mark.parametrize("flags", [[], ["ack_epoch_twice"], ["epoch_quorum_without_leader"],
                                   ["epoch_bump_strict"], ["ack_quorum_not_awaited"]])
def test_every_z3_step_equals_the_explicit_step(flags):
    variant = AbstractVariant.from_flags(flags)
    m = DiscoveryModel(3, max_epoch=1, variant=variant)
    sample = covering_sample(m, per_branch=1)
    assert len(sample) >= 8
    for epoch in (1,):
        enc = Encoding(3, variant=variant, max_epoch=1, epoch=epoch)
        for state in sample:
            explicit = dict(m.actions(state))
            symbolic = z3_successors(enc, state)
            assert set(symbolic) == set(explicit), state
            for label, (servers, est) in symbolic.items():
                assert servers == explicit[label][0], (state, label)
                assert est == [(epoch, k) in explicit[label][1] for k in range(3)]
