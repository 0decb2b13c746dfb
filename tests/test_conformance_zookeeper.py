"""Representative conformance scenarios on a real ZooKeeper 3.8 ensemble (127.0.0.1).

Each test runs one scenario on a fresh ensemble (about 3-8 s), then checks every election
against the model: the real leader must be one the model can establish, and joiners must
follow it. Every JVM is killed by PID by the harness; the fixture kills leftovers too.
"""

import pytest

from zkcheck.conformance.harness import kill_all_started, missing_install
from zkcheck.conformance.predict import predict
from zkcheck.conformance.run import run_scenario
from zkcheck.conformance.scenarios import BY_NAME
from zkcheck.conformance.validate import validate

pytestmark = [
    pytest.mark.zookeeper,
    pytest.mark.skipif(bool(missing_install()), reason="ZooKeeper not installed (make system)"),
]


@pytest.fixture(autouse=True)
def _no_leftover_jvms():
    yield
    kill_all_started()


@pytest.mark.parametrize("name", ["fresh3-order-123", "crash3-different-zxid",
                                  "stale-higher-sid-3", "epoch-beats-sid-3",
                                  "quorum-loss-no-writes-3"])
def test_real_leader_is_a_model_leader(name):
    run = run_scenario(BY_NAME[name])
    assert run.episodes
    for er in run.episodes:
        assert er.leader is not None
        p = predict(er.episode, walks=150)
        assert p.verdict(er.leader) == "agree", (name, er.episode.describe(), p.text(),
                                                  er.leader)
        assert all(after == er.leader for _joiner, after in er.joined)


def test_one_at_a_time_start_log_is_explained():
    run = run_scenario(BY_NAME["fresh3-order-123"])
    (er,) = run.episodes
    v = validate(er.episode, er.leader, run.events, er.t0, er.t_stable, run.journal,
                 max_states=40_000)
    assert v.explained, v.text()


def test_leader_crash_log_is_explained():
    """Finding F1 (fixed in model/scenarios.py): followers answer a LOOKING server with the
    zxid of their election, not the leader's current one, so the model must too."""
    run = run_scenario(BY_NAME["crash3-equal-zxid"])
    er = run.episodes[-1]
    v = validate(er.episode, er.leader, run.events, er.t0, er.t_stable, run.journal,
                 max_states=20_000)
    # survivors of a leader crash can race into the one documented modelling limit (a
    # stale WorkerReceiver reply, README Known limits; a few percent of failovers): that
    # is named as such; anything else unexplained fails
    assert v.explained or v.reason.startswith("known modelling limit: stale WorkerReceiver"), \
        v.text()
