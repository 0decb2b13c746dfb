"""The unbounded proof: k-induction proves Leadership for 3 and 5 servers; weakened
invariants and broken rules give counterexamples to induction that really are ones."""

from __future__ import annotations

import pytest
import z3

from zkcheck.invariants.leadership_aux import AUX
from zkcheck.invariants.leadership_induction import k_induction
from zkcheck.invariants.leadership_z3 import Encoding, Sym
from zkcheck.model.discovery_abstract import AbstractVariant, DiscoveryModel


@pytest.mark.parametrize("n", [3, 5])
def test_leadership_proven(n):
    result = k_induction(n)
    assert result.proven and result.cti is None and result.base_failure is None
    assert result.invariants[-1] == "Leadership"


def test_strict_epoch_bump_of_zookeeper_1343_is_safe():
    assert k_induction(3, variant=AbstractVariant(epoch_bump_strict=True)).proven


def _holds(enc: Encoding, name: str, snap, epoch: int) -> bool:
    sym = Sym.of(snap.state(epoch), epoch, snap.ack)
    formula = next(a for a in AUX if a.name == name).formula(enc, sym)
    return z3.is_true(z3.simplify(formula))


def test_weakened_invariants_give_a_real_cti():
    weakened = [a for a in AUX if a.name != "PendingAckForLeader"]
    result = k_induction(3, invariants=weakened)
    assert not result.proven
    cti = result.cti
    assert cti is not None and cti.broken == "ElectingAckedForLeader"
    assert cti.label.startswith("ackepoch")
    enc = Encoding(3, epoch=cti.epoch)
    # the pre-state satisfies every remaining invariant, the post-state breaks the named one
    assert all(_holds(enc, a.name, cti.pre, cti.epoch) for a in weakened)
    assert not _holds(enc, cti.broken, cti.post, cti.epoch)
    # and the post-state is the explicit abstract model's successor under that label
    m = DiscoveryModel(3, max_epoch=None)
    successors = dict(m.actions(cti.pre.state(cti.epoch)))
    assert successors[cti.label][0] == cti.post.servers


def test_acking_twice_breaks_the_induction():
    result = k_induction(3, variant=AbstractVariant(ack_epoch_twice=True))
    assert not result.proven and result.cti.broken == "PendingAckForLeader"
    assert result.cti.label.startswith("leaderinfo")
