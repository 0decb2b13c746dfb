"""Every command's --json output is one document of the zkcheck-report/2 schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from zkcheck.cli import main
from zkcheck.schema import SCHEMA_ID, load_schema

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = jsonschema.Draft202012Validator(load_schema())
ZOO_CFG = "tickTime=2000\nserver.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n"


def document(capsys, *args: str) -> tuple[int, dict]:
    code = main(list(args))
    doc = json.loads(capsys.readouterr().out)
    VALIDATOR.validate(doc)
    assert doc["schema"] == SCHEMA_ID and doc["exit_code"] == code
    assert doc["ok"] is (code == 0)
    return code, doc


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(load_schema())


def test_explore_fle_states_are_typed(capsys) -> None:
    code, doc = document(capsys, "explore", "--servers", "3", "--scenario", "established",
                         "--timeouts", "1", "--variant", "checkleader_self_any_round",
                         "--depth", "13", "--property", "DecisionSupported", "--json")
    assert code == 1 and doc["command"] == "explore"
    verdict = doc["verdicts"][0]
    assert verdict["status"] == "violated" and verdict["trace"]["length"] == 13
    last = verdict["trace"]["steps"][-1]
    server = last["state"]["servers"]["3"]
    assert server["state"] == "LEADING" and server["logicalclock"] == 1
    assert server["current_vote"]["leader"] == 3
    assert isinstance(server["current_vote"]["zxid"], dict)
    assert isinstance(last["view"]["servers"]["3"]["currentVote"], str)  # the prose view
    assert doc["stats"]["distinct_states"] == 31162
    fired = doc["coverage"]["transitions_per_action_kind"]
    assert fired["giveup"] == 3 and fired["transmit"] == 38000
    assert doc["stats"]["generated_states"] == 100225
    assert {"timeout", "connect", "drain"} <= set(doc["coverage"]["never_fired"])


def test_explore_toy_and_incomplete_exit_3(capsys) -> None:
    code, doc = document(capsys, "explore", "--model", "grid:3,3", "--depth", "2",
                         "--require-complete", "--json")
    assert code == 3 and doc["ok"] is False and doc["complete"] is False
    assert doc["stats"]["generated_states"] == 1 + 2 + 4  # initial state included


def test_simulate(capsys) -> None:
    code, doc = document(capsys, "simulate", "--model", "mutex", "--walks", "50", "--seed",
                         "3", "--depth", "10", "--no-progress", "--json")
    assert code == 1 and doc["command"] == "simulate"
    assert doc["coverage"]["walks"] >= 1
    assert set(doc["coverage"]["transitions_per_action_kind"]) <= {"p1:check", "p1:enter",
                                                                   "p1:exit", "p2:check",
                                                                   "p2:enter", "p2:exit"}


def test_check(capsys) -> None:
    code, doc = document(capsys, "check", str(ROOT / "specs" / "r3-1514-buggy.toml"),
                         "--json", "--no-progress")
    assert code == 0 and doc["passed"] == 1 and doc["failed"] == 0
    spec = doc["specs"][0]
    assert spec["got"]["DecisionSupported"] == {"status": "violated", "length": 13}
    assert spec["distinct_states"] == spec["expected_distinct_states"] == 31162


@pytest.mark.parametrize("standalone", [False, True])
def test_prove_quorum(capsys, tmp_path, standalone: bool) -> None:
    cfg = tmp_path / "zoo.cfg"
    cfg.write_text("tickTime=2000\n" if standalone else ZOO_CFG)
    code, doc = document(capsys, "prove", "quorum", str(cfg), "--json")
    assert code == 0
    assert doc["verdict"] == ("standalone" if standalone else "proven")


def test_prove_leadership(capsys) -> None:
    code, doc = document(capsys, "prove", "leadership", "--servers", "3", "--bmc-only",
                         "--depth", "5", "--json")
    assert code == 0 and doc["command"] == "prove leadership"


def test_conform_document_shape() -> None:
    """conform needs a real ensemble (tests marked zookeeper); its document shape is
    checked here on the envelope the command builds."""
    from zkcheck.schema import envelope

    summary = {"checked": 1, "agreed": 1, "explained": 1, "inconclusive": 0, "disagreed": 0,
               "not_checked": 0, "exit_code": 1, "why": "exit 1: ..."}
    doc = envelope("conform", 1, scenarios=[{"scenario": "x", "episodes": [{"episode": 1}]}],
                   summary=summary)
    VALIDATOR.validate(doc)
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(envelope("conform", 0, scenarios="none", summary=summary))
    with pytest.raises(jsonschema.ValidationError):  # the closing summary is required
        VALIDATOR.validate(envelope("conform", 1, scenarios=[]))


def test_check_shows_per_spec_progress_on_stderr(capsys) -> None:
    code = main(["check", str(ROOT / "specs" / "r3-1514-buggy.toml")])
    captured = capsys.readouterr()
    assert code == 0 and "1 passed, 0 failed" in captured.out
    lines = captured.err.splitlines()
    assert lines[0] == ("zkcheck check [1/1] r3-1514-buggy: running (bfs, depth 13, "
                        "31,162 states expected)")
    assert lines[1].startswith("zkcheck check [1/1] r3-1514-buggy: ok, 31,162 states, ")
