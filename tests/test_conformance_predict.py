"""Model-side conformance pieces that need no ZooKeeper: inputs, bounds, witnesses."""

import pytest

from zkcheck.conformance.predict import Episode, model_zxid, predict, static_bound
from zkcheck.conformance.scenarios import SCENARIOS, select
from zkcheck.errors import InputError


def test_model_zxid_splits_epoch_and_counter():
    assert model_zxid(0x100000007) == (1, 7)
    assert model_zxid(0) == (0, 0)


def test_static_bound_excludes_stale_higher_sid():
    # 1 and 2 wrote 12 txns in epoch 1, 3 is stale: 3 cannot gather a quorum below it
    ep = Episode(3, ((1, 1, 1, 0x10000000C), (2, 1, 1, 0x10000000C), (3, 1, 1, 0)),
                 frozenset({1, 2, 3}))
    assert static_bound(ep) == {1, 2}


def test_static_bound_epoch_outranks_sid():
    ep = Episode(3, ((1, 2, 2, 0x100000008), (2, 2, 2, 0x200000000), (3, 1, 1, 0x100000008)),
                 frozenset({1, 3}))
    assert static_bound(ep) == {1}


def test_fresh_start_witnesses_are_high_sids():
    ep = Episode(3, tuple((s, 0, 0, 0) for s in (1, 2, 3)), frozenset({1, 2, 3}))
    p = predict(ep, walks=60)
    assert p.possible == {2, 3}
    assert p.possible <= p.bound
    assert p.verdict(3) == "agree" and p.verdict(1) == "inconclusive"


def test_join_keeps_the_leader():
    ep = Episode(3, tuple((s, 0, 0, 0) for s in (1, 2, 3)), frozenset({1}),
                 boots_any=frozenset({2}), boots_join=(3,))
    assert predict(ep, walks=60).possible == {2}


def test_at_least_twenty_scenarios_and_selection():
    assert len(SCENARIOS) >= 20
    assert {s.n for s in SCENARIOS} == {3, 5}
    assert [s.name for s in select(["crash3-equal-zxid"])] == ["crash3-equal-zxid"]
    with pytest.raises(InputError):
        select(["no-such-scenario"])
