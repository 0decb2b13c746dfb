"""Reductions keep the verdicts of full search: POR, symmetry, both; and their checks."""

from __future__ import annotations

from dataclasses import fields

import pytest
from fle_testlib import full_search, model

from zkcheck.cli import main
from zkcheck.explorer import Bounds, Search
from zkcheck.explorer.por import PorError, Reducer
from zkcheck.explorer.symmetry import check_symmetry
from zkcheck.model.variants import Variant

FLAGS = [f.name for f in fields(Variant)]

CONFIGS = [
    (2, {}),
    (2, {"timeouts": 1}),
    (2, {"link_failures": 1}),
    (2, {"late": [2]}),
    (2, {"crashes": 1, "restarts": 1}),
    (3, {"scenario": "leader-crash"}),
    (3, {"scenario": "leader-crash", "timeouts": 1}),
]


def _verdicts(result):
    return {name: (v.status, None if v.trace is None else len(v.trace))
            for name, v in result.verdicts.items()}


def _run(m, **options):
    return Search(m, bounds=options.pop("bounds", Bounds()), **options).run()


def _same_as_full(m, bounds=None, full=None):
    """``full``: the unreduced run, when a shared one exists (tests/fle_testlib.py)."""
    if full is None:
        full = _run(m, bounds=bounds or Bounds())
    expected = _verdicts(full)
    sizes = {}
    for por, symmetry in ((True, False), (False, True), (True, True)):
        reduced = _run(m, bounds=bounds or Bounds(), por=por, symmetry=symmetry)
        assert _verdicts(reduced) == expected, (por, symmetry)
        assert reduced.complete == full.complete
        sizes[por, symmetry] = reduced.stats.distinct
    return full.stats.distinct, sizes


@pytest.mark.parametrize(("servers", "config"), CONFIGS, ids=[f"{s}-{c}" for s, c in CONFIGS])
def test_reductions_keep_verdicts_and_lengths(servers, config):
    distinct, sizes = _same_as_full(model(servers, **config), full=full_search(servers, config))
    assert sizes[True, False] < distinct  # POR reduces every one of these


@pytest.mark.parametrize("flag", FLAGS)
def test_reductions_keep_verdicts_for_every_variant(flag):
    _same_as_full(model(2, timeouts=1, variant=Variant.from_flags([flag])))
    _same_as_full(model(3, scenario="leader-crash", variant=Variant.from_flags([flag])))


def test_por_with_a_violation_reports_a_shortest_counterexample():
    # ZOOKEEPER-975's "exit when all heard" breaks DecisionSupported
    config = {"variant": Variant.from_flags(["exit_when_all_heard"])}
    m = model(3, **config)
    bounds = Bounds(max_depth=12)
    full = full_search(3, config, bounds=bounds, properties=["DecisionSupported"])
    por = Search(m, bounds=bounds, properties=["DecisionSupported"], por=True).run()
    assert full.verdicts["DecisionSupported"].status == "violated"
    assert _verdicts(por) == _verdicts(full)


def test_observer_symmetry_keeps_verdicts_within_a_bound():
    m = model(4, observers=[3, 4])
    bounds = Bounds(max_depth=9)
    full = _run(m, bounds=bounds)
    reduced = _run(m, bounds=bounds, symmetry=True)
    assert _verdicts(reduced) == _verdicts(full)
    assert reduced.stats.distinct < full.stats.distinct


def test_bounded_por_keeps_verdicts():
    m = model(3)
    bounds = Bounds(max_depth=9)
    full = full_search(3, {}, bounds=bounds)  # shared with tests/test_parallel.py
    por = _run(m, bounds=bounds, por=True)
    assert _verdicts(por) == _verdicts(full)


def test_independence_holds_on_every_reduced_state():
    for servers, config, depth in [(2, {"crashes": 1, "restarts": 1}, 30), (3, {}, 9),
                                   (3, {"scenario": "leader-crash", "timeouts": 1}, 30)]:
        search = Search(model(servers, **config), por=True, check_independence=3,
                        bounds=Bounds(max_depth=depth))
        result = search.run()
        assert result.extra["por"]["independence_checks"] > 100
        assert isinstance(search._por, Reducer)


def _broadcasting_steps(m, outbox_full):
    """A naive ample function: the first ``start``/``process`` of a server k that broadcasts,
    taken only where some of k's send queues is non-empty (``outbox_full``) or where all of
    them are empty."""
    n = m.n

    def ample(state, acts):
        for index, (label, succ) in enumerate(acts):
            word, _, sid = label.partition(" ")
            if word not in ("start", "process") or succ[1] is state[1]:
                continue
            k = m.sids.index(int(sid))
            queued = any(state[1][k * n + j][0] is not None for j in range(n) if j != k)
            if queued == outbox_full:
                return index
        return None

    return _WithAmple(m, ample)


class _WithAmple:
    """The model with another ample function (a compiled ``FLEModel`` cannot be patched)."""

    def __init__(self, m, ample):
        self._model = m
        self.ample_for = lambda names: ample
        self.por_measure = None  # a broadcast does not shorten a queue: the stored-state proviso

    def __getattr__(self, name):
        return getattr(self._model, name)


@pytest.mark.parametrize(("outbox_full", "culprit"), [(True, "transmit"), (False, "deliver")])
def test_broadcasting_steps_are_refuted_as_ample_sets(outbox_full, culprit):
    # why POR stays with quiet steps: a broadcast overwrites the 1-slot queue a pending
    # transmit would send (§4.2), and its loopback notification races every delivery to
    # the same server for a place in the recvqueue
    m = _broadcasting_steps(model(2), outbox_full)
    with pytest.raises(PorError) as error:
        Search(m, por=True, check_independence=1).run()
    assert "do not commute" in str(error.value)
    assert f"'{culprit} " in str(error.value)


def test_naive_server_permutation_is_rejected_and_observers_accepted():
    m = model(3)
    problem = check_symmetry(m, m.symmetry_group("servers"), max_states=500)
    assert problem is not None and "not a symmetry" in problem
    m = model(4, observers=[3, 4])
    assert len(m.symmetry_group()) == 2
    assert check_symmetry(m, max_states=1500) is None


def test_cli_rejects_naive_symmetry_and_runs_checks(capsys):
    code = main(["explore", "--servers", "3", "--symmetry", "servers", "--depth", "8",
                 "--no-progress"])
    assert code == 1
    assert "symmetry rejected" in capsys.readouterr().err
    code = main(["explore", "--servers", "2", "--check-independence", "1", "--no-progress",
                 "--symmetry", "observers", "--check-symmetry"])
    out = capsys.readouterr().out
    assert code == 0 and "partial-order reduction:" in out


def test_compact_store_is_at_most_16_bytes_per_state():
    result = full_search(3, {}, bounds=Bounds(max_depth=11))  # as tests/test_ray_cluster.py
    assert result.stats.distinct > 20_000
    assert result.stats.bytes_per_state <= 16
