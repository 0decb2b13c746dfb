"""Random walks on toy models: schedulers with hand-computed probabilities, liveness by
deadlock and by fair loop, shortening, coverage counting and reproducibility."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from zkcheck.api import build_model
from zkcheck.explorer import VIOLATED, WITNESS_FOUND
from zkcheck.explorer.coverage import Coverage, DistinctCounter
from zkcheck.explorer.model import encode_tuple, invariant
from zkcheck.explorer.result import NOT_VIOLATED
from zkcheck.explorer.schedulers import PCT, pct_bound
from zkcheck.explorer.simulate import simulate, to_result
from zkcheck.explorer.swarm import Knob, draw_knobs
from zkcheck.explorer.trace import replay
from zkcheck.explorer.walks import Walker, WalkSettings, walk_rng


class Race:
    """One step decides: server a has three harmless actions, server b one bad one.

    Uniform over actions: P(bad) = 1/4. Per server: P(b) = 1/2, then its only action.
    PCT without change points: b runs first iff it has the higher priority: 1/2 = 1/n.
    """

    name = "race"

    def initial_states(self):
        return ((0,),)

    def actions(self, state):
        if state == (0,):
            yield from (("a1", (1,)), ("a2", (1,)), ("a3", (1,)), ("b", (2,)))

    encode = staticmethod(encode_tuple)

    def properties(self):
        return [invariant("NotBad", lambda s: s != (2,))]

    @staticmethod
    def actor(label: str) -> str:
        return label[0]


def violation_rate(scheduler: str, walks: int = 4000) -> float:
    walker = Walker(Race(), WalkSettings(depth=3, scheduler=scheduler, change_points=0))
    hits = sum(walker.walk(11, k, Coverage(), [], {}) is not None for k in range(walks))
    return hits / walks


@pytest.mark.parametrize(("scheduler", "probability"),
                         [("uniform", 0.25), ("per-server", 0.5), ("pct", 0.5)])
def test_violation_probability_matches_the_hand_computed_one(scheduler, probability) -> None:
    rate = violation_rate(scheduler)
    # 4000 walks: the standard deviation is at most 0.008; 0.03 is almost 4 of them
    assert abs(rate - probability) < 0.03
    assert violation_rate(scheduler) == rate  # and the same seed gives the same walks


def test_pct_bound_and_change_points_are_drawn_per_walk() -> None:
    assert pct_bound(3, 100, 2) == 1 / (3 * 100**2)
    assert pct_bound(5, 50, 0) == 1 / 5
    pct = PCT(lambda label: label, walk_rng(1, 2), depth=10, change_points=3)
    again = PCT(lambda label: label, walk_rng(1, 2), depth=10, change_points=3)
    assert pct.drops == again.drops and len(pct.drops) == 3
    assert sorted(pct.drops.values()) == [1.0, 2.0, 3.0]
    assert all(0 <= step < 10 for step in pct.drops)


def test_grid_corner_is_found_by_the_first_walk_and_shortened_exactly() -> None:
    model = build_model("grid:3,4")
    settings = WalkSettings(depth=50, properties=("NotCorner",))
    run = simulate(functools.partial(build_model, "grid:3,4"), settings, seed=5, walks=10)
    assert run.violation is not None and run.violation.index == 0
    assert run.coverage.walks == 1 and run.coverage.steps == 7
    result, shortened = to_result(Walker(model, settings), run)
    verdict = result.verdicts["NotCorner"]
    assert verdict.status == VIOLATED and len(verdict.trace) == 7
    assert shortened.exact and shortened.original == 7
    replay(model, verdict.trace)
    assert not result.complete and result.bounds_hit[0].bound == "sampled"


def test_not_violated_wording_never_holds() -> None:
    model = build_model("mutex:fixed")
    settings = WalkSettings(depth=20)
    run = simulate(functools.partial(build_model, "mutex:fixed"), settings, seed=3, walks=25)
    result, _ = to_result(Walker(model, settings), run)
    verdict = result.verdicts["MutualExclusion"]
    assert verdict.status == NOT_VIOLATED and verdict.note == "in 25 walks of <= 20 steps"
    entered = result.verdicts["Entered"]
    assert entered.status == WITNESS_FOUND and len(entered.trace) == 1  # shortened, exact
    assert "no shorter trace exists" in entered.note
    assert result.ok and run.coverage.walks == 25 and run.coverage.steps == 25 * 20
    assert run.distinct.count == 3 and run.distinct.is_exact  # mutex:fixed has 3 states


def test_liveness_fair_loop_is_a_lasso_and_unfair_loops_are_not() -> None:
    factory = functools.partial(build_model, "counter:3,reset")
    settings = WalkSettings(depth=30)
    run = simulate(factory, settings, seed=2, walks=50)
    assert run.violation is not None and run.violation.loop_start is not None
    result, shortened = to_result(Walker(factory(), settings), run)
    trace = result.verdicts["ReachesTop"].trace
    replay(factory(), trace)
    # explore finds the lasso of no prefix and the loop inc, reset
    assert trace.loop_start == 0 and trace.labels == ["inc", "reset"]
    # without reset only `wait` loops avoid the top, and they are unfair
    plain = simulate(functools.partial(build_model, "counter:3"), settings, seed=2, walks=200)
    assert plain.violation is None and plain.coverage.ends["depth"] == 200


def test_deadlock_without_the_goal_violates_liveness() -> None:
    class Stuck(Race):
        """From 0, `a` reaches the goal 1, `b` a deadlock 2: eventually-1 fails via b."""

        def properties(self):
            from zkcheck.explorer.model import liveness

            return [liveness("ReachesOne", lambda s: s == (1,))]

    walker = Walker(Stuck(), WalkSettings(depth=5, scheduler="per-server"))
    outcomes = [walker.walk(0, k, Coverage(), [], {}) for k in range(200)]
    bad = [o for o in outcomes if o is not None]
    assert all(o.labels == ("b",) and "deadlock" in o.note for o in bad)
    assert 70 < len(bad) < 130  # per server: b with probability 1/2


def test_distinct_counter_switches_to_hyperloglog_at_the_cap() -> None:
    counter = DistinctCounter(cap=1000)
    counter.add_many(range(900))
    assert counter.is_exact and counter.count == 900
    counter.add_many(range(500, 20_000))
    assert not counter.is_exact
    assert abs(counter.count - 20_000) < 0.05 * 20_000
    assert "HyperLogLog estimate" in counter.describe()


def test_swarm_knobs_are_part_of_the_seed() -> None:
    knobs = [Knob("crashes", 2), Knob("timeouts", 3)]
    first = draw_knobs(knobs, walk_rng(9, 4))
    assert first == draw_knobs(knobs, walk_rng(9, 4))
    draws = [draw_knobs(knobs, walk_rng(9, k)) for k in range(400)]
    assert {d["crashes"] for d in draws} == {0, 1, 2}
    assert {d["timeouts"] for d in draws} == {0, 1, 2, 3}
    off = sum(d["crashes"] == 0 for d in draws) / 400
    assert abs(off - 0.5) < 0.1


def test_swarm_needs_a_model_with_knobs() -> None:
    with pytest.raises(ValueError, match="no swarm knobs"):
        Walker(Race(), WalkSettings(swarm=True))


def test_walk_generator_is_pcg64_from_seed_and_index() -> None:
    expected = np.random.Generator(np.random.PCG64(np.random.SeedSequence([4, 7])))
    assert walk_rng(4, 7).random() == expected.random()
