"""The abstract discovery model: BFS verdicts, and every Z3 step equals the explicit one."""

from __future__ import annotations

import random

import pytest
import z3
from leadership_testlib import covering_sample, z3_successors

from zkcheck.errors import InputError
from zkcheck.explorer import HOLDS, VIOLATED, Bounds, explore
from zkcheck.invariants.leadership_z3 import Encoding
from zkcheck.model import discovery_rules as R
from zkcheck.model.discovery_abstract import AbstractVariant, DiscoveryModel, to_vars


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
    # breadth-first to the expected length: a violation found is a shortest one (the
    # complete space of the broken variant adds nothing to this claim)
    verdict = explore(m, search="bfs", bounds=Bounds(max_depth=length)).verdicts["Leadership"]
    assert verdict.status == VIOLATED and len(verdict.trace) == length


def test_bad_input():
    with pytest.raises(InputError):
        DiscoveryModel(0)
    with pytest.raises(InputError):
        AbstractVariant.from_flags(["no_such_flag"])


def _same_steps(m: DiscoveryModel, enc: Encoding, sample: list[tuple]) -> None:
    n, epoch = m.n, enc.epoch
    for state in sample:
        explicit = dict(m.actions(state))
        symbolic = z3_successors(enc, state)
        assert set(symbolic) == set(explicit), state
        for label, (servers, est) in symbolic.items():
            assert servers == explicit[label][0], (state, label)
            assert est == [(epoch, k) in explicit[label][1] for k in range(n)]


@pytest.mark.parametrize("flags", [[], ["ack_epoch_twice"], ["epoch_quorum_without_leader"],
                                   ["epoch_bump_strict"], ["ack_quorum_not_awaited"]])
def test_every_z3_step_equals_the_explicit_step(flags):
    """The two interpreters of the one set of rules agree (Python values vs Z3 terms)."""
    variant = AbstractVariant.from_flags(flags)
    m = DiscoveryModel(3, max_epoch=1, variant=variant)
    sample = covering_sample(m, per_branch=1, max_depth=12)
    assert len(sample) >= 8
    _same_steps(m, Encoding(3, variant=variant, max_epoch=1, epoch=1), sample)


def test_steps_agree_with_higher_epochs_and_five_servers():
    """Branches that need epochs above 1 (a follower refusing a lower epoch, equal epochs
    answered -1), and a 5-server ensemble."""
    m = DiscoveryModel(3, max_epoch=3, initial_epochs=[(2, 1), (1, 1), (0, 0)])
    sample = covering_sample(m, per_branch=1, max_depth=7)
    kinds = {label.split()[0] for s in sample for label, _ in m.actions(s)}
    assert {"leaderinfo", "ackepoch", "newleader", "quit"} <= kinds
    for epoch in (2, 3):
        _same_steps(m, Encoding(3, max_epoch=3, epoch=epoch), sample)
    five = DiscoveryModel(5, max_epoch=2)
    rng = random.Random(5)
    walk, state = [], five.initial_states()[0]
    while len(walk) < 30:  # random interleavings of everyone joining leader 1
        walk.append(state)
        steps = [t for label, t in five.actions(state) if label == "lead 1" or label.endswith(
            "-> 1") or label.split()[0] in ("followerinfo", "leaderinfo", "ackepoch")]
        state = rng.choice(steps) if steps and not state[1] else five.initial_states()[0]
    assert any(s[1] for s in walk)
    _same_steps(five, Encoding(5, max_epoch=2, epoch=1), walk)


def test_initial_conditions_agree():
    """Concrete and Z3 readings of the rules' initial condition, on initial and other
    states, with and without given epochs."""
    m = DiscoveryModel(3, max_epoch=2, initial_epochs=[(2, 1), (1, 0), (0, 0)])
    states = [m.initial_states()[0], *covering_sample(m, per_branch=1, max_depth=4)[1:6]]
    for epochs in ([(2, 1), (1, 0), (0, 0)], None, [(1, 1), (1, 0), (0, 0)]):
        for state in states:
            enc = Encoding(3, max_epoch=2, epoch=1)
            concrete = R.initial(m.ops, to_vars(state), epochs)
            symbolic = z3.is_true(z3.simplify(R.initial(enc.ops, enc.const(state), epochs)))
            assert concrete == symbolic, (state, epochs)
    assert R.initial(m.ops, to_vars(states[0]), None)
    assert not R.initial(m.ops, to_vars(states[0]), [(1, 1), (1, 0), (0, 0)])
