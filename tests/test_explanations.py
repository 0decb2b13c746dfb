"""Every historic bug's counterexample says why, in terms of its trace: the server, the
step and the values (data from the property; the renderers show it)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from zkcheck.cli import main
from zkcheck.specs import load_spec, run_spec

SPECS = Path(__file__).resolve().parent.parent / "specs"

CASES = [  # spec, property, step, servers, phrases of the explanation
    ("r1-1419-buggy", "VoteOrderIsStrict", 0, [1, 2],
     ["not asymmetric", "(leader 1, zxid 1:5, peerEpoch 1)",
      "(leader 2, zxid 1:5, peerEpoch 0) are each better than the other"]),
    ("r1-1419-buggy", "EventuallyElected", 10, [1, 2],
     ["Steps 11..30 repeat forever", "1 keeps changing its proposal between 1 and 2"]),
    ("r2-975-buggy", "DecisionSupported", 12, [2],
     ["2 decided FOLLOWING in round 1 with support {3}",
      "a quorum of the 3 voters {1, 2, 3} needs 2 identical current-round votes"]),
    ("r3-1514-buggy", "DecisionSupported", 13, [3],
     ["3 decided to lead through Step B", "its round goes back from 2 to 1"]),
    ("r4-1732-buggy", "JoinerEventuallyJoins", 15, [1],
     ["1 never joins the established leader 3", "steps 16..27 repeat forever",
      "differ in their round (1, 2)", "ZOOKEEPER-1732"]),
    ("zk1191-buggy", "EstablishedByQuorum", 16, [2],
     ["2 established epoch 1 at step 16 acknowledged by {2} only"]),
]


@cache
def outcome_of(spec: str):
    return run_spec(load_spec(SPECS / f"{spec}.toml"))


@pytest.mark.parametrize(("spec", "prop", "step", "servers", "phrases"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_explanation(spec: str, prop: str, step: int, servers: list[int],
                     phrases: list[str]) -> None:
    outcome = outcome_of(spec)
    assert outcome.passed, outcome.mismatches
    verdict = outcome.result.verdicts[prop]
    why = verdict.explanation
    assert why is not None and (why["step"], why["servers"]) == (step, servers)
    for phrase in phrases:
        assert phrase in why["text"], why["text"]
    assert verdict.description  # the statement travels with the verdict


def test_text_report_states_the_property_and_says_why(capsys) -> None:
    code = main(["explore", "--late", "3", "--max-round", "1", "--variant",
                 "exit_when_all_heard", "--depth", "12", "--property", "DecisionSupported",
                 "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1
    assert "  property: DecisionSupported (§8.3 item 4): a server that left LOOKING" in out
    why = out.split("<== VIOLATION")[1]
    assert "why: 2 decided FOLLOWING in round 1 with support {3}" in " ".join(why.split())


def test_a_toy_property_without_an_explainer_still_states_itself(capsys) -> None:
    code = main(["explore", "--model", "mutex", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1 and "property: " in out and "why:" not in out
