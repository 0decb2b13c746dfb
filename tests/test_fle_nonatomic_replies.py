"""``--nonatomic-replies`` (issue 17.2, docs/semantics.md §5.1): the WorkerReceiver reads the
vote when a message arrives, logicalclock and its state later (``build``), and queues the
reply later still (``reply``). Exact counts with the option on, each reply anomaly the issue
lists reachable with it and not without, the known conformance limit gone with it.
"""

from __future__ import annotations

import pytest
from fle_testlib import model, run, srv
from test_conformance_log import _recorded

from zkcheck.conformance.validate import validate
from zkcheck.explorer import Bounds, explore
from zkcheck.explorer.parallel import ParallelSearch
from zkcheck.fle_options import build_fle_model
from zkcheck.model.state import (
    F_CLOCK,
    F_PROP,
    FOLLOWING,
    KEY_SHIFT,
    LOOKING,
    N_FIELDS,
    STATE_MASK,
    vote_leader,
    vote_round,
)

SAFETY = ("Leadership", "EpochMonotonic", "DecisionSupported", "EstablishedLeaderUpToDate",
          "VoteOrderIsStrict")

CASES = [
    # (servers, configuration, distinct states with the option, without it)
    (2, {}, 446, 434),
    (2, {"timeouts": 1}, 25290, 5838),
    (3, {"scenario": "leader-crash"}, 2808, 368),
]


@pytest.mark.parametrize(("servers", "config", "distinct", "atomic"), CASES,
                         ids=[f"{s}-{c}" for s, c, _, _ in CASES])
def test_complete_counts_bfs_dfs_and_two_workers(servers, config, distinct, atomic):
    for search in ("bfs", "dfs"):
        result = explore(model(servers, nonatomic_replies=True, **config), search=search,
                         bounds=Bounds())
        assert result.complete and result.stats.distinct == distinct, search
        for name in SAFETY:
            assert result.verdicts[name].status == "holds", name
    parallel = ParallelSearch(model(servers, nonatomic_replies=True, **config), workers=2,
                              bounds=Bounds()).run()
    assert parallel.stats.distinct == distinct
    assert explore(model(servers, **config), bounds=Bounds()).stats.distinct == atomic


def _messages(m, st):
    """(sender index, message) of everything queued, in flight or last sent."""
    n = m.n
    for ci, c in enumerate(st[1]):
        if c is not None:
            for w in (c[0], *c[1], c[2]):
                if w is not None:
                    yield ci // n, w


def _old_round_looking(m, st):
    """A LOOKING message of round 1: in leader-crash the survivors decided in round 1 and
    are LOOKING only from round 2 on."""
    return any(w & STATE_MASK == LOOKING and vote_round(w) == 1 for _k, w in _messages(m, st))


def _following_self(m, st):
    """A FOLLOWING message naming its sender as the leader (its proposal)."""
    return any(w & STATE_MASK == FOLLOWING and vote_leader(w) == m.sids[k]
               for k, w in _messages(m, st))


def _overtaken(m, st):
    """A LOOKING message queued after one of the same round from the same sender that
    it transmitted before, with a worse vote: a reply read before a broadcast, sent
    after it."""
    for c in st[1]:
        if c is not None and c[0] is not None and c[2] is not None:
            new, old = c[0], c[2]
            if new & STATE_MASK == old & STATE_MASK == LOOKING and \
                    vote_round(new) == vote_round(old) and new >> KEY_SHIFT < old >> KEY_SHIFT:
                return True
    return False


def _first_depth(m, predicate):
    """BFS depth of the first state satisfying ``predicate`` (None: none in the complete
    space)."""
    init = m.initial_states()[0]
    seen, frontier, depth = {init}, [init], 0
    while frontier:
        if any(predicate(m, st) for st in frontier):
            return depth
        nxt = []
        for st in frontier:
            for _label, t in m.actions(st):
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier, depth = nxt, depth + 1
    return None


@pytest.mark.parametrize(("predicate", "depth"), [
    (_old_round_looking, 6),  # a LOOKING reply with the old currentVote and its round
    (_following_self, 17),  # a FOLLOWING reply carrying the proposal, not the decided vote
    (_overtaken, 15),  # a reply queued after a later broadcast
], ids=["looking-old-vote", "following-proposal", "overtaken"])
def test_anomaly_reachable_only_with_nonatomic_replies(predicate, depth):
    assert _first_depth(model(3, scenario="leader-crash", nonatomic_replies=True),
                        predicate) == depth
    assert _first_depth(model(3, scenario="leader-crash"), predicate) is None


def test_looking_reply_with_old_vote_trace():
    """Follower 2 starts a reply to 1's LOOKING round-2 notification, loses its leader,
    goes LOOKING, and only then reads its state: LOOKING with the role's vote of round 1."""
    m = model(3, scenario="leader-crash", nonatomic_replies=True)
    st = run(m, ["lost 1", "start 1", "transmit 1->2", "deliver 1->2"])
    assert len(srv(m, st, 2)) == N_FIELDS + 1  # reply pending
    assert "deliver 3->2" not in [lbl for lbl, _ in m.actions(st)]
    st = run(m, ["lost 2", "reply 2->1"], st)
    out = st[1][m.index[2] * m.n + m.index[1]][0]
    assert (out & STATE_MASK, vote_leader(out), vote_round(out)) == (LOOKING, 3, 1)
    assert len(srv(m, st, 2)) == N_FIELDS


LAGGARD = ["lost 1", "start 1", "process 1", "lost 2", "start 2", "transmit 2->1",
           "deliver 2->1", "process 1", "process 1", "decide 1", "publish 1", "lost 1",
           "restart 3", "start 3", "connect 3-1", "transmit 3->1", "deliver 3->1"]


def test_laggard_reply_new_clock_old_proposal():
    """Server 1 (clock 2, following 2) starts a laggard reply to the restarted 3 (round 1)
    with its proposal (2's vote), then starts round 3 before reading logicalclock: the
    reply carries round 3 and the old proposal, while 1 proposes itself in round 3. The
    atomic model answers the same delivery with round 2."""
    kw = {"scenario": "leader-crash", "restarts": 1, "max_round": 3}
    on = model(3, nonatomic_replies=True, **kw)
    st = run(on, LAGGARD + ["start 1", "reply 1->3"])
    out = st[1][on.index[1] * on.n + on.index[3]][0]
    one = srv(on, st, 1)
    assert (out & STATE_MASK, vote_leader(out), vote_round(out)) == (LOOKING, 2, 3)
    assert one[F_CLOCK] == 3 and one[F_PROP] != out >> KEY_SHIFT
    off = model(3, **kw)
    st = run(off, LAGGARD)
    out = st[1][off.index[1] * off.n + off.index[3]][0]
    assert (out & STATE_MASK, vote_leader(out), vote_round(out)) == (LOOKING, 2, 2)


def test_atomic_model_never_has_a_pending_reply():
    m = model(3, scenario="leader-crash", timeouts=1)
    init = m.initial_states()[0]
    seen, frontier = {init}, [init]
    while frontier:
        nxt = []
        for st in frontier:
            assert all(len(s) == N_FIELDS for s in st[0])
            for label, t in m.actions(st):
                assert not label.startswith(("build ", "reply "))
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    assert len(seen) == 2854


def test_option_reaches_the_model_and_its_summary():
    m = build_fle_model(servers=2, nonatomic_replies=True)
    assert m.nonatomic_replies and "non-atomic replies" in m.summary
    assert "non-atomic" not in build_fle_model(servers=2).summary
    assert m.ample_for(["Leadership"]) is None  # POR's independence proof does not cover it


@pytest.mark.parametrize("name", ["failover3-repeated-ep3-stale-reply",
                                  "failover3-repeated-ep5-stale-reply"])
def test_stale_reply_episode_explained_with_the_option(name):
    """The recorded real episodes the atomic model leaves to the known modelling limit
    (tests/test_conformance_log.py) are explained by the split-reply model."""
    ep, leader, evs, t0, t1, journal = _recorded(name)
    v = validate(ep, leader, evs, t0, t1, journal, max_states=10_000, nonatomic_replies=True)
    assert (v.explained, v.consumed, v.events, v.steps) == (True, 14, 14, 32)
    assert "reply 3->1" in [label for label, _ in v.witness]
    assert not v.reason.startswith("known modelling limit")


def test_story_tells_the_split_reply():
    from zkcheck.explorer import Trace
    from zkcheck.render.fle_story import fle_story

    m = model(3, scenario="leader-crash", restarts=1, max_round=3, nonatomic_replies=True)
    st, steps = m.initial_states()[0], []
    for label in LAGGARD + ["start 1", "build 1->3", "reply 1->3", "transmit 1->3"]:
        st = run(m, [label], st)
        steps.append((label, st))
    story = fle_story(m, Trace(m.initial_states()[0], tuple(steps)))
    told = {s.label: (s.lane, s.sentence) for s in story.steps}
    assert told["deliver 3->1"][1].endswith(
        "1 starts a reply to 3 (vote read now, round and state later)")
    assert told["build 1->3"][0] == "1"
    assert told["reply 1->3"] == ("1", "1's receiver queues its reply (2, 0x0, 3, 1) for 3")
    assert (story.messages[-1].text, story.messages[-1].kind) == ("(2, 0x0, 3, 1)", "reply")


def test_interpreted_model_gives_the_same_count():
    """The compiled model (``zkcheck._native``) and the interpreted one agree with the
    option on."""
    import os
    import subprocess
    import sys

    from zkcheck import _native

    code = ("from zkcheck.explorer import Bounds, explore; "
            "from zkcheck.fle_options import build_fle_model; "
            "m = build_fle_model(servers=3, scenario='leader-crash', nonatomic_replies=True); "
            "print(explore(m, bounds=Bounds()).stats.distinct)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=dict(os.environ, **{_native.PURE_ENV: "1"}))
    assert out.stdout.split()[-1] == "2808"
