"""Model-side conformance pieces that need no ZooKeeper: inputs, bounds, witnesses, and
the exact leader sets of the episode kinds small enough for exhaustive search."""

from dataclasses import replace

import pytest

from zkcheck.conformance.exhaustive import exhaustive_leaders
from zkcheck.conformance.paused import acts
from zkcheck.conformance.predict import (
    Episode,
    episode_model,
    model_zxid,
    predict,
    random_walks,
    static_bound,
)
from zkcheck.conformance.scenarios import SCENARIOS, select
from zkcheck.errors import InputError
from zkcheck.model.fle import FLEModel


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


def test_static_bound_uses_the_sid_tie_break():
    # equal (epoch, zxid): L needs a quorum of sids not above it
    assert static_bound(Episode(3, ZERO3, frozenset({1, 2, 3}))) == {2, 3}
    assert static_bound(Episode(5, _same(5, 0, 0), frozenset(range(1, 6)))) == {3, 4, 5}
    assert static_bound(Episode(3, ZERO3, frozenset({1, 2}))) == {2}


def test_static_bound_leaves_observers_out():
    # voters 1, 2 and observer 4 up: 2 voters of 3 are a quorum and 2 is the best voter;
    # counting the observer as a voter (4 voters, quorum 3) would allow only 4
    ep = Episode(4, _same(4, 0, 0), frozenset({1, 2, 4}), observers=frozenset({4}))
    assert static_bound(ep) == {2}
    assert static_bound(Episode(4, _same(4, 0, 0), frozenset({1, 2, 4}))) == {4}
    # voter 1 and the observer are no quorum
    assert static_bound(Episode(4, _same(4, 0, 0), frozenset({1, 4}),
                                observers=frozenset({4}))) == set()


def test_fresh_start_is_exact_when_walks_meet_the_bound():
    # millions of states (the exhaustive search cannot finish), but the walks reach 2 and
    # 3 and the static bound excludes 1: the set is exact
    ep = Episode(3, ZERO3, frozenset({1, 2, 3}))
    p = predict(ep, walks=60)
    assert p.possible == p.bound == {2, 3} and p.exact and p.bound_met
    assert p.verdict(3) == "agree" and p.verdict(1) == "DISAGREE"
    assert p.text() == "{2,3} exact" and p.searched_states == 0
    assert p.search_text() == "exact: model runs reach every server of the static bound"


def test_fresh_five_server_start_is_exact():
    p = predict(Episode(5, _same(5, 0, 0), frozenset(range(1, 6))), walks=100)
    assert p.text() == "{3,4,5} exact" and p.walks.first[3] >= 1


def test_too_few_walks_leave_a_bracket():
    ep = Episode(5, _same(5, 0, 0), frozenset(range(1, 6)))
    p = predict(ep, walks=3, max_states=2000)
    assert not p.exact and p.possible < p.bound == {3, 4, 5}
    assert p.verdict(min(p.unknown)) == "inconclusive" and p.verdict(1) == "DISAGREE"
    assert p.stopped_by == "states 2000" and "?{" in p.text()


def test_join_keeps_the_leader():
    ep = Episode(3, tuple((s, 0, 0, 0) for s in (1, 2, 3)), frozenset({1}),
                 boots_any=frozenset({2}), boots_join=(3,))
    assert predict(ep, walks=60).possible == {2}


def test_at_least_twenty_scenarios_and_selection():
    assert len(SCENARIOS) >= 20
    assert {s.n for s in SCENARIOS} == {3, 4, 5}
    assert [s.name for s in SCENARIOS if s.observers] == ["observer-3+1"]
    assert [s.name for s in select(["crash3-equal-zxid"])] == ["crash3-equal-zxid"]
    with pytest.raises(InputError):
        select(["no-such-scenario"])


E1 = 1 << 32  # zxid (1, 0): epoch 1, no transaction


def _same(n: int, epoch: int, zxid: int) -> tuple[tuple[int, int, int, int], ...]:
    return tuple((s, epoch, epoch, zxid) for s in range(1, n + 1))


ZERO3 = _same(3, 0, 0)

# Episodes as run.py builds them from the scenarios (inputs as read back), with the exact
# set the complete search finds and why it is right.
EXACT = {
    # alone, 1 cannot win; 2 boots with the same (0, 0) and a higher sid, so 2 never votes
    # 1 and 1 follows 2; 3 joins the stable ensemble and takes no part
    "fresh3-order-123": (Episode(3, ZERO3, frozenset({1}), frozenset({2}), (3,)), {2}),
    # 3 starts alone, 1 boots: 1 switches to 3's better vote, 3 never votes 1
    "fresh3-order-312": (Episode(3, ZERO3, frozenset({3}), frozenset({1}), (2,)), {3}),
    "fresh3-order-231": (Episode(3, ZERO3, frozenset({2}), frozenset({3}), (1,)), {3}),
    "late-joiner-3": (Episode(3, ZERO3, frozenset({1, 2}), boots_join=(3,)), {2}),
    # equal zxids: 2 always votes 2, and 1 needs 2's vote
    "crash3-equal-zxid": (Episode(3, _same(3, 1, E1 + 5), frozenset({1, 2}), crashed=3),
                          {2}),
    "failover3-crash": (Episode(3, _same(3, 1, E1), frozenset({1, 2}), boots_join=(3,),
                                crashed=3), {2}),
    # the crashed 2 was not the best of the ensemble (3 is): a fresh start of {1, 3}
    "failover3-second": (Episode(3, _same(3, 2, 2 * E1), frozenset({1, 3}),
                                 boots_join=(2,), crashed=2), {3}),
    # the stale 1 (zxid (1, 0)) cannot lead the up-to-date 2 (ACKEPOCH)
    "crash3-different-zxid": (Episode(3, ((1, 1, 1, E1), (2, 1, 1, E1 + 5),
                                          (3, 1, 1, E1 + 5)),
                                      frozenset({2}), frozenset({1}), crashed=3), {2}),
    # the stale higher sid 3 cannot lead the up-to-date 1
    "stale-higher-sid-3": (Episode(3, ((1, 2, 2, 2 * E1 + 5), (2, 2, 2, 2 * E1 + 5),
                                       (3, 1, 1, E1)),
                                   frozenset({1}), frozenset({3}), crashed=2), {1}),
    # 1's epoch 2 beats 3's higher sid at an equal zxid
    "epoch-beats-sid-3": (Episode(3, ((1, 2, 2, E1 + 5), (2, 2, 2, 2 * E1),
                                      (3, 1, 1, E1 + 5)),
                                  frozenset({3}), frozenset({1})), {1}),
    # equal zxids, 3 (the old leader, now LOOKING) has the highest sid
    "quorum-loss-3": (Episode(3, _same(3, 1, E1 + 2), frozenset({3}), frozenset({2})), {3}),
    # the reverse restart after a failover without writes: 2 (epoch 2, zxid (1, 5) from its
    # dataDir) boots into 3 (epoch 1), 1 joins; srvr had said (2, 0) for the down 2
    "restart-all-reverse-3": (Episode(3, ((1, 2, 2, E1 + 5), (2, 2, 2, E1 + 5),
                                          (3, 1, 1, E1 + 5)),
                                      frozenset({3}), frozenset({2}), (1,)), {2}),
    # the paused leader 3 takes no step in the episode: its followers' election is the
    # leader-crash one
    "paused-leader-3": (Episode(3, _same(3, 1, E1 + 5), frozenset({1, 2}), crashed=3,
                                paused=frozenset({3})), {2}),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_exact_leader_sets(name):
    episode, expected = EXACT[name]
    p = predict(episode, walks=100, max_states=150_000, search=True)
    assert p.exact and p.possible == expected, p.search_text()
    # the exhaustive search alone gives the same set (the bound is not needed here)
    ex = exhaustive_leaders(episode, episode_model(episode))
    assert ex.complete and ex.leaders == expected and ex.states < 30_000
    assert p.text() == "{" + ",".join(map(str, sorted(expected))) + "} exact"
    assert not p.unknown
    # cross-checks: the static bound is sound (and here tight), the walks are model runs
    assert p.possible == static_bound(episode)
    assert set(p.walks.first) <= p.possible and p.walks.changed == 0
    outside = next(iter(set(range(1, 4)) - expected))
    assert p.verdict(outside) == "DISAGREE" and p.verdict(min(expected)) == "agree"


@pytest.mark.parametrize("name", ["crash3-equal-zxid", "late-joiner-3"])
def test_partial_order_reduction_keeps_the_set(name):
    episode, expected = EXACT[name]
    full = exhaustive_leaders(episode, episode_model(episode), por=False)
    reduced = exhaustive_leaders(episode, episode_model(episode), por=True)
    assert full.complete and reduced.complete
    assert full.leaders == reduced.leaders == expected
    assert reduced.states * 3 < full.states


def test_joiner_semantics_of_the_walks():
    # the walks' semantics (stable, then joiners one by one, outcome once all joined) is
    # exhaustive only without timeouts (a give-up after the join reopens a 3-server
    # election: over 8 million states with timeouts 2)
    episode = EXACT["late-joiner-3"][0]
    m = FLEModel(episode.config(max_round=3, timeouts=0))
    joined = exhaustive_leaders(episode, m, joins=True)
    assert joined.complete and joined.leaders == {2}
    assert set(random_walks(episode, walks=50, model=m).leaders) <= joined.leaders


def test_observer_episode_is_exact_by_the_bound():
    # observer-3+1: observer 4 (the highest sid) waits alone; 1 and 2 boot, 2 leads, 3
    # joins. The walks reach 2, the only voter the bound allows (counting 4 as a voter, the
    # bound would allow only 4)
    ep = Episode(4, _same(4, 0, 0), frozenset({4}), frozenset({1, 2}), (3,),
                 observers=frozenset({4}))
    assert static_bound(replace(ep, observers=frozenset())) == {4}
    p = predict(ep, walks=100, search=False)
    assert p.possible == p.bound == {2} and p.exact and p.bound_met
    assert p.verdict(4) == "DISAGREE" and "4:observer up" in ep.describe()
    assert ep.config().observers == frozenset({4})


def test_five_server_crash_is_exact_by_the_bound():
    # 1 and 2 are stale, 5 crashed: 4 has the quorum {1, 3, 4} below it, 3 only {1, 3}
    ep = Episode(5, ((1, 1, 1, E1), (2, 1, 1, E1)) + tuple((s, 1, 1, E1 + 5) for s in (3, 4, 5)),
                 frozenset({3, 4}), frozenset({1}), crashed=5)
    p = predict(ep, walks=100, max_states=3000)
    assert p.possible == p.bound == static_bound(ep) == {4} and p.exact
    # the exhaustive search alone cannot finish it
    ex = exhaustive_leaders(ep, episode_model(ep), max_states=3000)
    assert not ex.complete and ex.stopped_by == "states 3000"


def test_paused_leader_direct_model_gives_the_same_set():
    # paused-leader-3 #2: the established ensemble under 3 with every step of 3 blocked
    # and one give-up per follower finds exactly the leader-crash episode's set
    episode, expected = EXACT["paused-leader-3"]
    p = predict(episode, walks=100)
    assert p.possible == expected == {2} and p.exact
    assert p.paused_check == "paused-leader model: {2} exhaustive, 4000 states"
    assert p.search_text().endswith("; " + p.paused_check)
    # a crashed (not paused) leader is not cross-checked
    assert predict(replace(episode, paused=frozenset()), walks=100).paused_check == ""


def test_a_paused_server_takes_no_step():
    assert acts("deliver 1->3", 3) and not acts("deliver 3->1", 3)
    assert acts("transmit 3->1", 3) and not acts("transmit 1->3", 3)
    assert acts("connect 3-1", 3) and acts("reconnect 2-3", 3) and not acts("connect 2-1", 3)
    assert acts("giveup 3", 3) and acts("lost-quorum 3", 3) and not acts("giveup 1", 3)
    assert acts("expire 1,3", 3) and not acts("expire 1,2", 3) and not acts("start 13", 3)
