"""Issue 16: properties that catch seeded bugs by a violation, recomputed from primary
state, and regression tests for checker defects found on the unmodified checker."""

from __future__ import annotations

from fle_testlib import model

from zkcheck.api import build_model
from zkcheck.explorer import Bounds, Search
from zkcheck.explorer.liveness import check_liveness
from zkcheck.model.state import pack_key, unpack_key

DIFFERENT_ZXIDS = {"scenario": "leader-crash", "zxid": ["1=1:5", "2=1:3", "3=1:5"]}


def _verdicts(m, properties, depth=None):
    result = Search(m, properties=properties, bounds=Bounds(max_depth=depth),
                    liveness=check_liveness).run()
    return {name: (v.status, None if v.trace is None else len(v.trace))
            for name, v in result.verdicts.items()}


def _sid_first(m):
    """A seeded wrong vote order: the sid is compared before the zxid (epoch, sid, zxid)."""
    def better(new: int, cur: int) -> bool:
        nl, nz, ne = unpack_key(new)
        cl, cz, ce = unpack_key(cur)
        return (ne, nl, nz) > (ce, cl, cz)
    m.better = better
    return m


def test_established_scenario_runs_without_traceback():
    # 5a: the scenario's running leader published its vote without a recorded result
    m = build_model("fle", servers=3, scenario="established")
    result = Search(m, liveness=check_liveness).run()
    assert result.complete and result.stats.distinct == 1
    assert result.verdicts["TwoLeadingSameRound"].status == "witness not found"


def test_elected_is_most_up_to_date_catches_a_sid_first_vote_order():
    good = build_model("fle", **DIFFERENT_ZXIDS)
    assert _verdicts(good, ["ElectedIsMostUpToDate", "DecisionSupported"]) == {
        "ElectedIsMostUpToDate": ("holds", None), "DecisionSupported": ("holds", None)}
    bad = _sid_first(build_model("fle", **DIFFERENT_ZXIDS))
    assert _verdicts(bad, ["ElectedIsMostUpToDate"]) == {
        "ElectedIsMostUpToDate": ("violated", 9)}


def test_decision_supported_recounts_quorums_without_the_model_tables():
    # a quorum table one vote too small: the recorded evidence agrees with it, the
    # recomputation from the configuration does not
    m = model(3, max_round=1)
    m.quorum = tuple(mask != 0 for mask in range(1 << m.n))
    m.zab_quorum = m.quorum
    assert _verdicts(m, ["DecisionSupported"], depth=4) == {
        "DecisionSupported": ("violated", 2)}


def test_key_helpers_round_trip():
    assert unpack_key(pack_key(3, 7, 2)) == (3, 7, 2)


def test_por_covers_reconnects_and_names_its_reason_when_off():
    # 5d: --reconnects used to turn POR off silently, blaming the properties
    m = model(2, reconnects=1)
    props = ["Leadership", "EpochMonotonic"]
    assert m.por_refusal(props) is None
    reduced = Search(m, properties=props, por=True, check_independence=1).run()
    full = Search(model(2, reconnects=1), properties=props).run()
    assert (reduced.stats.distinct, full.stats.distinct) == (2553, 7638)
    assert reduced.verdicts["Leadership"].status == full.verdicts["Leadership"].status == "holds"
    assert m.por_refusal(["Leadership", "EventuallyElected"]) == (
        "off: EventuallyElected not covered by the model's independence proof")
