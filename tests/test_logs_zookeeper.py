"""``zkcheck logs`` on logs that real ZooKeeper 3.8 ensembles (127.0.0.1, the conformance
harness) write during the test, at ZooKeeper's default INFO level in the upstream layout
and at DEBUG (FastLeaderElection logger) in Debian's layout. Every election must be
explained, with the leader the harness saw through ``srvr``; tampered copies must not be.
Every JVM is killed by PID by the harness; the fixture kills leftovers too."""

import json

import pytest

# the real-ensemble marks and the fixture that kills leftover JVMs by PID
from test_conformance_zookeeper import _no_leftover_jvms, pytestmark  # noqa: F401

from zkcheck.cli import main
from zkcheck.conformance.scenarios import BY_NAME
from zkcheck.logs.capture import capture


def _check(capsys, *args: str) -> tuple[int, dict]:
    code = main(["logs", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name, layout, level", [
    ("fresh3-simultaneous", "upstream", "INFO"),
    ("crash3-equal-zxid", "upstream", "INFO"),
    ("restart-all-3", "upstream", "INFO"),
    ("crash3-equal-zxid", "debian", "DEBUG"),
    ("restart-all-3", "debian", "DEBUG"),
])
def test_real_elections_are_explained(name, layout, level, tmp_path, capsys):
    leaders = capture(BY_NAME[name], tmp_path / "logs", layout, level, tmp_path / "run")
    code, doc = _check(capsys, str(tmp_path / "logs"))
    elections = [e for e in doc["episodes"] if e["kind"] == "election"]
    assert set(doc["levels"].values()) == {level}
    # every episode explained, including an election the final stop of the ensemble cut
    # short (its servers' logged broadcasts matched, their unlogged last one not)
    assert [e["verdict"] for e in doc["episodes"]] == ["explained"] * len(doc["episodes"]), doc
    assert code == 0
    # every election the harness saw is one of the log's, with the same leader (a racy
    # boot can add joins, and the final stop of the ensemble can cut a last election
    # short, which has no leader)
    assert [e["leader"] for e in elections if e["leader"] is not None] == leaders


def test_real_five_server_election_at_info(tmp_path, capsys):
    """5 servers launched together, INFO: the boot races (replaced connections, timeouts
    with re-broadcasts, duplicate receipts), and every episode must still be explained,
    with the leader the harness saw. (A logged timeout is matched as a connectAll-only one
    only when its stamp is due, and a reconnect may re-send the message in flight:
    docs/logs.md, How it validates; measured: 26 of 27 boots explained, the other one at
    load average 9, docs/logs.md, Measured.)"""
    for attempt in range(2):  # a boot under heavy load may exhaust the budget: one more
        # capture then; "not explained" is never retried, and the capture used must be
        # explained in full
        leaders = capture(BY_NAME["fresh5-simultaneous"], tmp_path / f"logs{attempt}",
                          "upstream", "INFO", tmp_path / f"run{attempt}")
        code, doc = _check(capsys, str(tmp_path / f"logs{attempt}"), "--max-states", "30000")
        verdicts = [e["verdict"] for e in doc["episodes"]]
        assert "not explained" not in verdicts, doc
        if "inconclusive" not in verdicts:
            break
    assert verdicts == ["explained"] * len(doc["episodes"]), doc
    assert code == 0
    elections = [e for e in doc["episodes"] if e["kind"] == "election"]
    assert [e["leader"] for e in elections if e["leader"] is not None] == leaders


def test_real_log_tampered_vote_is_not_explained(tmp_path, capsys):
    # Refuting the tampered vote means searching every interleaving up to it; in about one
    # capture of four (measured: 2 of 6, then 1 of 6 at 400,000 states) the races before
    # it exhaust the budget and the verdict is "inconclusive" (exit 3), which never claims
    # an explanation. Such a capture is replaced, up to three; "explained" fails at once.
    for attempt in range(3):
        logs = tmp_path / f"logs{attempt}"
        capture(BY_NAME["fresh3-simultaneous"], logs, "upstream", "INFO",
                tmp_path / f"run{attempt}")
        _code, doc = _check(capsys, str(logs))
        first = doc["episodes"][0]
        leader = first["leader"]
        other = min(s for s in first["servers"] if s != leader)
        # a receipt the leader logged in the election, from another participant
        log = logs / f"zookeeper-{leader}.log"
        lines = log.read_text().splitlines(keepends=True)
        k = next(i for i, line in enumerate(lines)
                 if f"Notification: my state:LOOKING; n.sid:{other}, n.state:LOOKING" in line)
        lines[k] = lines[k].replace("n.zxid:0x0,", "n.zxid:0x700000000,")
        log.write_text("".join(lines))
        code, doc = _check(capsys, str(logs))
        assert doc["episodes"][0]["verdict"] != "explained", doc
        if code != 3:
            break
    assert code == 1
    assert doc["episodes"][0]["verdict"] == "not explained"
    assert "zxid 7:0" in doc["episodes"][0]["first_unexplained"]
