"""``zkcheck prove leadership``: text, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from zkcheck.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["prove", "leadership", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_proven_for_three_servers(capsys):
    code, out, _ = run(capsys, "--servers", "3", "--depth", "5")
    assert code == 0
    assert "PROVEN" in out and "3 servers" in out and "abstraction:" in out
    assert "every N (parameterized, EPR, 13 invariants" in out
    assert "ok: a leader can be established within the BMC bound: shortest witness: 5 steps" in out
    assert "verdict: PROVEN (exit 0)" in out


def test_bmc_only_says_within_bounds(capsys):
    code, out, _ = run(capsys, "--servers", "3", "--depth", "5", "--bmc-only")
    assert code == 0 and "HOLDS WITHIN BOUNDS" in out and "PROVEN" not in out


def test_broken_variant_prints_the_counterexample_as_a_trace(capsys):
    code, out, _ = run(capsys, "--variant", "ack_quorum_not_awaited", "--depth", "7")
    assert code == 1
    assert "Leadership: VIOLATED (epoch 1), shortest counterexample of 7 steps" in out
    assert "7. followerinfo" in out and "<== VIOLATION" in out
    assert "verdict: VIOLATED (exit 1)" in out


def test_cti_is_printed_with_the_pre_state_and_action(capsys):
    code, out, _ = run(capsys, "--depth", "5", "--without-invariant", "PendingAckForLeader")
    assert code == 1
    assert "counterexample to induction: ackepoch" in out
    assert "pre-state (E = " in out and "server 1:" in out
    assert "INDUCTION FAILED" in out


def test_json_is_one_document(capsys):
    code, out, _ = run(capsys, "--depth", "7", "--variant", "ack_quorum_not_awaited",
                       "--json")
    doc = json.loads(out)
    assert code == doc["exit_code"] == 1
    assert doc["schema"] == "zkcheck-report/2" and doc["command"] == "prove leadership"
    assert doc["verdict"] == "violated"
    trace = doc["bmc"]["properties"]["Leadership"]["trace"]
    assert trace["length"] == 7 and trace["steps"][-1]["label"].startswith("followerinfo")
    code, out, _ = run(capsys, "--depth", "5", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "proven" and doc["induction"]["proven"]
    assert doc["every_n"]["proven"] and all(c["ok"] for c in doc["sanity"])
    assert len(doc["sanity"]) == 6 and doc["bmc"]["witness_length"] == 5
    assert [i["name"] for i in doc["induction"]["invariants"]][-1] == "Leadership"


def test_bad_input_exits_2(capsys):
    for args in (["--servers", "0"], ["--servers", "12"], ["--depth", "-1"],
                 ["--variant", "nope"], ["--without-invariant", "Nope"],
                 ["--without-invariant", "Leadership"], ["--k", "0"]):
        code, _, err = run(capsys, *args)
        assert code == 2 and err.startswith("zkcheck: error:"), args


DATA = Path(__file__).parent / "data" / "zoocfg"


def test_config_combines_quorum_intersection_and_every_n(capsys):
    code, out, _ = run(capsys, "--config", str(DATA / "hier_3x3.cfg"))
    assert code == 0 and "9 voters" in out
    assert "quorums of the file: every two intersect: proven by Z3" in out
    assert "every N (parameterized, EPR" in out and "bounded model checking" not in out
    assert "so Leadership holds for this ensemble" in out
    code, out, _ = run(capsys, "--config", str(DATA / "maj3.cfg"), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "proven" and doc["bmc"]["witness_length"] == 5
    assert doc["quorum_intersection"]["holds"] and doc["every_n"]["proven"]


def test_config_with_disjoint_quorums_or_no_quorum_is_not_proven(capsys):
    code, out, _ = run(capsys, "--config", str(DATA / "hier_negative_broken.cfg"))
    assert code == 1 and "VIOLATED:" in out and "verdict: VIOLATED (exit 1)" in out
    code, out, _ = run(capsys, "--config", str(DATA / "hier_all_zero_weight.cfg"))
    assert code == 1 and "FAILED: a quorum exists" in out
    assert "verdict: VACUOUS (exit 1)" in out
    code, out, _ = run(capsys, "--config", str(DATA / "debian_standalone.cfg"))
    assert code == 0 and "verdict: STANDALONE (exit 0)" in out
    code, _, err = run(capsys, "--config", str(DATA / "maj3.cfg"), "--servers", "3")
    assert code == 2 and "--config takes no --servers" in err
