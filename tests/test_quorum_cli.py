"""``zkcheck prove quorum`` through the real entry point: output, JSON and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zkcheck.cli import main

DATA = Path(__file__).parent / "data" / "zoocfg"
ZKCHECK = Path(sys.executable).parent / "zkcheck"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["prove", "quorum", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_proven_config_text(capsys):
    code, out, err = run(capsys, str(DATA / "hier_3x3.cfg"))
    assert code == 0 and err == ""
    assert "hierarchical quorums" in out
    assert "group.1: servers:weights 1:1 2:1 3:1; total 3" in out
    assert "every two quorums intersect: proven by Z3" in out
    assert "failure tolerance: 3 of 9 voters may fail" in out
    assert "27 such sets of 4 voters" in out
    assert out.rstrip().endswith("verdict: PROVEN (exit 0)")


def test_even_majority_gets_odd_size_advice(capsys):
    code, out, _ = run(capsys, str(DATA / "observers.cfg"))
    assert code == 0
    assert "observers (2): 5 6" in out
    assert "4 voters (even) tolerate 1 failure(s), no more than the 3-voter ensemble" in out


def test_disjoint_quorums_exit_1(capsys):
    code, out, _ = run(capsys, str(DATA / "hier_negative_broken.cfg"))
    assert code == 1
    assert "VIOLATED, Z3 found two disjoint quorums" in out and "weight.5=-1" in out


def test_json_document(capsys):
    code, out, _ = run(capsys, str(DATA / "hier_zero_weight.cfg"), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["exit_code"] == 0 and doc["verdict"] == "proven"
    assert doc["schema"] == "zkcheck-report/2" and doc["command"] == "prove quorum"
    assert doc["reconfig"] is None
    assert doc["config"]["kind"] == "hierarchical" and doc["config"]["voters"] == list(range(9))
    assert [g["counted"] for g in doc["config"]["groups"]] == [True, False, False]
    assert doc["intersection"]["holds"] and doc["intersection"]["z3"] == "unsat"
    assert doc["tolerance"]["max_failures"] == 1 and len(doc["tolerance"]["witness"]) == 2
    assert doc["odd_size"]["flagged"] is False and doc["quorum_exists"] is True


def test_json_counterexample(capsys):
    code, out, _ = run(capsys, str(DATA / "hier_negative_group.cfg"), "--json")
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "violated"
    cex = doc["intersection"]["counterexample"]
    assert not set(cex["quorum_a"]) & set(cex["quorum_b"])


def test_reconfig_that_keeps_the_joint_rule(capsys):
    code, out, _ = run(capsys, str(DATA / "maj3.cfg"), "--reconfig", str(DATA / "maj3_other.cfg"))
    assert code == 0
    assert "voters added {4, 5, 6}, removed {1, 2, 3}, kept {}" in out
    assert "without the joint rule the change would break: old quorum" in out
    assert "leader designate: every joint quorum contains a voter of the new" in out
    assert "note: with weights >= 0 the joint-rule intersections above follow" in out
    assert "joint rule: HOLDS" in out


def test_reconfig_that_breaks_the_joint_rule_json(capsys):
    code, out, _ = run(capsys, str(DATA / "maj3.cfg"), "--reconfig",
                       str(DATA / "hier_negative_broken.cfg"), "--json")
    doc = json.loads(out)
    assert code == 1 and doc["exit_code"] == 1
    rec = doc["reconfig"]
    assert rec["holds"] is False and rec["new_config"]["kind"] == "hierarchical"
    assert rec["joint_meets_every_new_quorum"]["holds"] is False
    assert rec["joint_meets_every_old_quorum"]["holds"] is True


@pytest.mark.parametrize("args, message", [
    (["bad_weight_unknown.cfg"], "bad_weight_unknown.cfg:7: weight.9 names unknown server 9"),
    (["maj3.cfg", "--reconfig", "bad_two_groups.cfg"],
     "bad_two_groups.cfg:5: group.2: server 2 is already in group.1 (line 4)"),
    (["missing.cfg"], "missing.cfg: cannot read"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    argv = [str(DATA / a) if a.endswith(".cfg") else a for a in args]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("zkcheck: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_subprocess_entry_point():
    """ZooKeeper accepts all-zero weights; no set is then a quorum: a violation, exit 1."""
    proc = subprocess.run([str(ZKCHECK), "prove", "quorum",
                           str(DATA / "hier_all_zero_weight.cfg")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and proc.stderr == ""
    assert "quorum exists: VIOLATED, no set of voters is a quorum" in proc.stdout
    assert proc.stdout.rstrip().endswith("verdict: VIOLATED (exit 1)")


def test_standalone_file_has_nothing_to_prove(capsys):
    code, out, err = run(capsys, str(DATA / "debian_standalone.cfg"))
    assert code == 0 and err == ""
    assert "standalone server (no server.N line): no quorum and no leader election" in out
    assert out.rstrip().endswith("verdict: STANDALONE (exit 0)")
    code, out, _ = run(capsys, str(DATA / "debian_standalone.cfg"), "--json")
    assert code == 0 and json.loads(out)["verdict"] == "standalone"
    code, _, err = run(capsys, str(DATA / "debian_standalone.cfg"), "--reconfig",
                       str(DATA / "maj3.cfg"))
    assert code == 2 and "cannot be reconfigured" in err


def test_one_voter_with_standalone_disabled_is_a_quorum_of_one(capsys):
    code, out, _ = run(capsys, str(DATA / "single_voter_not_standalone.cfg"))
    assert code == 0 and "voters (1): 1" in out and "observers (1): 2" in out


def test_group_id_twice_is_a_config_without_quorum(capsys):
    code, out, _ = run(capsys, str(DATA / "hier_group_id_twice.cfg"))
    assert code == 1 and "are both group 1 after number parsing" in out
    assert "no set of voters is a quorum" in out


def test_reconfig_to_one_voter_is_refused_by_zookeeper(capsys, tmp_path):
    one = tmp_path / "one.cfg"
    one.write_text("server.1=a:2888:3888\n")
    code, out, _ = run(capsys, str(DATA / "maj3.cfg"), "--reconfig", str(one))
    assert code == 1
    assert ("ZooKeeper refuses this reconfiguration: the new configuration has 1 voter(s); "
            "with standaloneEnabled=true ZooKeeper requires at least 2") in out
    assert "joint rule: VIOLATED" in out
    code, out, _ = run(capsys, str(DATA / "maj3.cfg"), "--reconfig",
                       str(DATA / "hier_all_zero_weight.cfg"), "--json")
    rec = json.loads(out)["reconfig"]
    assert code == 1 and rec["zookeeper_refuses"] == [
        "no set of voters of the new configuration is a quorum, so no connected and synced "
        "quorum can exist"]
    assert rec["intersections_implied_by_nonnegative_weights"] is True
