"""The FLE properties: each one fails on a state that breaks it, and the static order check."""

from __future__ import annotations

import pytest
from fle_testlib import model, run, with_server
from hypothesis import given
from hypothesis import strategies as st

from zkcheck.errors import InputError
from zkcheck.invariants.fle import (
    PROPERTY_NAMES,
    check_vote_order,
    epoch_monotonic,
    fle_properties,
    leadership,
    select_properties,
)
from zkcheck.model.config import ModelConfig, ServerInit
from zkcheck.model.election import LEADER_EPOCH_BITS
from zkcheck.model.state import (
    D_LOOKING,
    FOLLOWING,
    LEADER_BITS,
    LEADING,
    LOOKING,
    P_DECIDED,
    VOTE_BITS,
    pack_key,
    pack_vote,
    unpack_key,
    unpack_vote,
)
from zkcheck.model.variants import Variant
from zkcheck.model.votes import make_better, votes_equal

R1 = {1: ServerInit(2, 2, (1, 5)), 2: ServerInit(2, 2, (1, 5)), 3: ServerInit(1, 1, (1, 5))}


def _props(m):
    return {p.name: p for p in fle_properties(m)}


def test_property_names_and_selection():
    m = model()
    assert [p.name for p in m.properties()] == list(PROPERTY_NAMES)
    chosen = select_properties(m.properties(), ["Leadership", "TwoLeadingSameRound"])
    assert [p.name for p in chosen] == ["Leadership", "TwoLeadingSameRound"]
    with pytest.raises(InputError, match="unknown property 'Nope'"):
        select_properties(m.properties(), ["Nope"])
    for p in m.properties():
        assert p.description


def test_vote_order_static_check_catches_zookeeper_1419():
    config = ModelConfig.make(3, initial=R1)
    assert check_vote_order(config) is None
    bad = ModelConfig.make(3, initial=R1, variant=Variant(vote_order_1419=True))
    problem = check_vote_order(bad)
    assert problem is not None and "not" in problem
    m = model(3, initial=R1, variant=Variant(vote_order_1419=True))
    assert not _props(m)["VoteOrderIsStrict"].predicate(m.initial_states()[0])
    better = make_better(lambda sid: 1, Variant(vote_order_1419=True))
    a, b = pack_key(2, 5, 2), pack_key(3, 5, 1)  # (id, zxid, epoch): each beats the other
    assert better(a, b) and better(b, a)


def test_vote_order_excludes_zero_weight():
    better = make_better(lambda sid: 0 if sid == 3 else 1, Variant())
    assert not better(pack_key(3, 9, 9), pack_key(1, 0, 0))
    assert better(pack_key(2, 0, 0), pack_key(1, 0, 0))


def test_leadership_fails_on_two_leaders_of_one_epoch():
    m = model()
    st0 = m.initial_states()[0]
    ok = st0[:5] + (((1, 2, 0b011, (0, 0), ((1, 0, 0),)), (2, 3, 0b110, (1, 0), ((2, 1, 0),))),)
    bad = st0[:5] + (((1, 2, 0b011, (0, 0), ((1, 0, 0),)), (1, 3, 0b110, (0, 0), ((2, 0, 0),))),)
    assert leadership(ok) and not leadership(bad)


def test_epoch_monotonic_fails_on_decrease_or_inversion():
    m = model()
    st0 = m.initial_states()[0]
    assert epoch_monotonic(st0)
    assert not epoch_monotonic(with_server(st0, 0, ce=1, ae=0, hwm=(1, 1)))
    assert not epoch_monotonic(with_server(st0, 0, ce=0, ae=1, hwm=(0, 2)))  # went down


def test_established_leader_up_to_date_fails_on_newer_member():
    m = model()
    st0 = m.initial_states()[0]
    bad = st0[:5] + (((1, 2, 0b011, (0, 0), ((1, 0, 3),)),),)
    assert not _props(m)["EstablishedLeaderUpToDate"].predicate(bad)
    equal = st0[:5] + (((1, 2, 0b011, (0, 3), ((1, 0, 3),)),),)
    assert _props(m)["EstablishedLeaderUpToDate"].predicate(equal)


def test_decision_supported_fails_without_quorum_zookeeper_975_exit():
    m = model()
    st0 = m.initial_states()[0]
    good = with_server(st0, 2, phase=P_DECIDED, state=LEADING,
                       result=pack_vote(0, 3, 0, 1, 0), dec=(D_LOOKING, 0b110, 1))
    bad = with_server(st0, 2, phase=P_DECIDED, state=LEADING,
                      result=pack_vote(0, 3, 0, 1, 0), dec=(D_LOOKING, 0b100, 1))
    prop = _props(m)["DecisionSupported"]
    assert prop.predicate(good) and not prop.predicate(bad)
    # the pre-975 "heard from everyone" exit decides on recvset entries that disagree
    m975 = model(variant=Variant(exit_when_all_heard=True))
    st = run(m975, ["start 1"])
    from zkcheck.model.state import queue_entry

    st = with_server(st, 0, queue=(queue_entry(1, pack_vote(LOOKING, 2, 0, 1, 0)),
                                   queue_entry(2, pack_vote(LOOKING, 3, 0, 1, 0))),
                     recv=(pack_vote(LOOKING, 1, 0, 1, 0), None, None))
    st = run(m975, ["process 1", "process 1"], st)
    assert st[0][0][1] == FOLLOWING
    assert not _props(m975)["DecisionSupported"].predicate(st)


words = st.builds(pack_vote, st.integers(0, 3), st.integers(-1, 5), st.integers(-1, 40),
                  st.integers(-1, 5), st.integers(-1, 5))


@given(words, words)
def test_masked_equalities_match_vote_equals(a, b):
    """The election's bit-mask comparisons are exactly ``Vote.equals`` (§3.2)."""
    if a & 3 == LOOKING or b & 3 == LOOKING:
        assert (a & VOTE_BITS == b & VOTE_BITS) == votes_equal(a, 0, b, 0)
    else:
        assert (a & LEADER_BITS == b & LEADER_BITS) == votes_equal(a, 2, b, 0)  # Step A
        assert (a & LEADER_EPOCH_BITS == b & LEADER_EPOCH_BITS) == votes_equal(a, 2, b, 2)
    assert unpack_vote(a) == tuple(unpack_vote(a))
    assert unpack_key(a >> 8) == unpack_vote(a)[1:3] + (unpack_vote(a)[4],)
