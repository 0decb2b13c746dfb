"""Z3 bounded model checking agrees with breadth-first search on the abstract model."""

from __future__ import annotations

import pytest

from zkcheck.explorer import HOLDS, HOLDS_WITHIN_BOUNDS, VIOLATED, Bounds, explore, replay
from zkcheck.invariants.leadership_bmc import bmc
from zkcheck.model.discovery_abstract import AbstractVariant, DiscoveryModel


def bfs_statuses(m: DiscoveryModel, depth: int) -> dict[str, tuple[str, int | None]]:
    result = explore(m, search="bfs", bounds=Bounds(max_depth=depth),
                     properties=["Leadership", "EpochOrder"])
    return {name: (v.status, len(v.trace) if v.trace else None)
            for name, v in result.verdicts.items()}


@pytest.mark.parametrize("n, max_epoch, depth", [(3, 1, 9), (2, 1, 14)])
def test_same_verdicts_at_every_depth(n, max_epoch, depth):
    m = DiscoveryModel(n, max_epoch=max_epoch)
    unrolled = bmc(n, depth, max_epoch=max_epoch)
    assert unrolled.ok
    for k in range(depth + 1):
        for name, (status, _) in bfs_statuses(m, k).items():
            # BMC never claims more than it unrolled: where BFS exhausted the space it
            # says "holds", BMC "holds within bounds"; a violation would be at <= k.
            assert status in (HOLDS, HOLDS_WITHIN_BOUNDS)
            assert unrolled.results[name].status == HOLDS_WITHIN_BOUNDS
    assert bfs_statuses(m, depth)["Leadership"][0] == (HOLDS if n == 2 else HOLDS_WITHIN_BOUNDS)


@pytest.mark.parametrize("flag, length", [("ack_quorum_not_awaited", 7),
                                          ("ack_epoch_twice", 14)])
def test_broken_variant_counterexample_as_short_as_bfs(flag, length):
    variant = AbstractVariant.from_flags([flag])
    m = DiscoveryModel(3, max_epoch=1, variant=variant)
    found = bmc(3, length, max_epoch=1, variant=variant, properties=["Leadership"])
    r = found.results["Leadership"]
    assert r.status == VIOLATED and r.depth == length
    replay(m, r.trace)  # a real run of the explicit abstract model
    assert not next(p for p in m.properties() if p.name == "Leadership").predicate(r.trace.final)
    assert {e for e, _ in r.trace.final[1]} == {r.epoch}
    shorter = bfs_statuses(m, length - 1)["Leadership"]
    assert shorter[0] == HOLDS_WITHIN_BOUNDS
    assert bfs_statuses(m, length)["Leadership"] == (VIOLATED, length)
