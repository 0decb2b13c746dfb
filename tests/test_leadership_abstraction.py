"""The soundness argument of ``prove leadership``: the explicit FLE model refines the
abstract discovery model under ``abstract_state``.

On every transition s -> t of exhaustively explored explicit runs (and of long random runs
with faults where exhaustive search is out of reach), the abstraction of t is the
abstraction of s (a stutter) or one of its abstract successors; the abstraction of the
initial state is an abstract initial state (or, for the leader-crash scenario, reachable).
Five servers are checked on seeded random runs with crashes, restarts and timeouts. The
tests also count which abstract actions were matched, so that a mapping that sent
everything to stutters could not pass.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from leadership_testlib import reachable

from zkcheck.model.config import ModelConfig
from zkcheck.model.discovery_abstract import AbstractVariant, DiscoveryModel
from zkcheck.model.fle import FLEModel
from zkcheck.model.fle_abstraction import abstract_state
from zkcheck.model.variants import Variant

WALKS_5, STEPS_5, ESTABLISHED_5 = 300, 300, 150  # measured: 75,097 steps, 184 established
ALL_KINDS = {"lead", "follow", "quit", "followerinfo", "leaderinfo", "ackepoch", "newleader",
             "setepoch"}


class Refinement:
    """Checks steps against the abstract model, caching abstract successors."""

    def __init__(self, m: FLEModel, alpha=abstract_state):
        self.m = m
        self.alpha = alpha
        self.abstract = DiscoveryModel(m.n, max_epoch=None, variant=AbstractVariant(
            epoch_bump_strict=m.variant.epoch_bump_strict))
        self.cache: dict[tuple, dict[tuple, str]] = {}
        self.kinds: Counter[str] = Counter()
        self.transitions = 0

    def step(self, s: tuple, label: str, t: tuple) -> None:
        a, b = self.alpha(self.m, s), self.alpha(self.m, t)
        self.transitions += 1
        if a == b:
            self.kinds["stutter"] += 1
            return
        matched = self.successors(a).get(b)
        if matched is None:  # without a crash budget establishment includes setepoch
            matched = self.then_set_epoch(a, b)
        assert matched is not None, (
            f"explicit step {label!r} maps to no abstract step:\n  from {a}\n  to   {b}")
        self.kinds[matched.split()[0]] += 1
        if matched.endswith("rejected"):
            self.kinds["ackepoch rejected"] += 1

    def successors(self, a: tuple) -> dict[tuple, str]:
        if a not in self.cache:
            self.cache[a] = {succ: lbl for lbl, succ in self.abstract.actions(a)}
        return self.cache[a]

    def then_set_epoch(self, a: tuple, b: tuple) -> str | None:
        """The label of an abstract step from ``a`` that ``setepoch`` completes to ``b``
        (an explicit model without a crash budget sets the leader's currentEpoch in the
        establishing step); the ``setepoch`` is counted."""
        for mid, label in self.successors(a).items():
            second = self.successors(mid).get(b)
            if second is not None and second.startswith("setepoch"):
                self.kinds["setepoch"] += 1
                return label
        return None


def exhaustive(config: ModelConfig, alpha=abstract_state) -> Refinement:
    m = FLEModel(config)
    ref = Refinement(m, alpha)
    init = m.initial_states()[0]
    seen = {init}
    frontier = [init]
    while frontier:
        nxt = []
        for s in frontier:
            for label, t in m.actions(s):
                ref.step(s, label, t)
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    return ref


def test_two_servers_with_crash_and_restart_exhaustively():
    config = ModelConfig.make(2, max_round=2, crashes=1, restarts=1)
    m = FLEModel(config)
    assert abstract_state(m, m.initial_states()[0]) == DiscoveryModel(2).initial_states()[0]
    ref = exhaustive(config)
    assert ref.transitions > 90_000
    assert ALL_KINDS | {"ackepoch rejected"} <= set(ref.kinds)


@pytest.mark.parametrize("variant", [Variant(), Variant(epoch_bump_strict=True)])
def test_two_servers_with_timeouts_exhaustively(variant):
    ref = exhaustive(ModelConfig.make(2, max_round=2, timeouts=1, variant=variant))
    assert ALL_KINDS <= set(ref.kinds)


def test_three_servers_after_a_leader_crash_exhaustively():
    config = ModelConfig.make(3, max_round=2, scenario="leader-crash", timeouts=1,
                              link_failures=1)
    m = FLEModel(config)
    start = abstract_state(m, m.initial_states()[0])
    # the established ensemble whose leader crashed is a reachable abstract state
    assert start in reachable(DiscoveryModel(3, max_epoch=1))
    ref = exhaustive(config)
    assert ALL_KINDS <= set(ref.kinds)


def random_runs(ref: Refinement, seed: int, walks: int, steps: int) -> int:
    """Seeded random walks over the explicit FLE model, every step checked; returns how
    many establishments the final states recorded."""
    m = ref.m
    rng = random.Random(seed)
    established = 0
    for _ in range(walks):
        s = m.initial_states()[0]
        for _ in range(steps):
            actions = m.actions(s)
            if not actions:
                break
            label, t = rng.choice(actions)
            ref.step(s, label, t)
            s = t
        established += len(s[5])
    return established


@pytest.mark.parametrize("variant", [Variant(), Variant(epoch_bump_strict=True)])
def test_three_servers_random_runs_with_faults(variant):
    config = ModelConfig.make(3, max_round=4, crashes=2, restarts=2, timeouts=3,
                              link_failures=1, client_writes=1, variant=variant)
    ref = Refinement(FLEModel(config))
    assert random_runs(ref, 20240611, walks=400, steps=150) > 100
    assert ALL_KINDS <= set(ref.kinds)


def test_five_servers_random_runs_with_crashes_and_timeouts():
    config = ModelConfig.make(5, max_round=3, crashes=2, restarts=2, timeouts=3)
    ref = Refinement(FLEModel(config))
    assert random_runs(ref, 5, walks=WALKS_5, steps=STEPS_5) >= ESTABLISHED_5
    assert ALL_KINDS <= set(ref.kinds)
    assert ref.transitions > 70_000 and ref.kinds["quit"] > 500


def test_a_wrong_abstraction_is_caught():
    """The check has teeth: forgetting that NEWLEADER sets currentEpoch is detected."""
    from zkcheck.model.discovery_abstract import CE, FOLLOWING, ROLE

    def forgetful(m, st):
        servers, hist = abstract_state(m, st)
        return (tuple(s[:CE] + (0,) + s[CE + 1:] if s[ROLE] == FOLLOWING else s
                      for s in servers), hist)

    with pytest.raises(AssertionError, match="maps to no abstract step"):
        exhaustive(ModelConfig.make(2, max_round=2, timeouts=1), forgetful)
