"""The closing summary of ``zkcheck conform`` and its exit code (no ZooKeeper needed)."""

from collections import Counter

from zkcheck.cli import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATION
from zkcheck.commands.conform import summarize

EXPLAINED = "explained (12 events, 34 states, witness of 25 steps)"


def _row(name, verdicts, validation, notes=(), unknown=(), episode=1):
    return {"scenario": name, "episode": episode, "verdicts": list(verdicts),
            "validation": list(validation), "notes": set(notes), "unknown": set(unknown),
            "real": Counter(), "predicted": set(), "search": set(), "exact": True}


def _result(name, runs, *rows):
    return {"scenario": name, "runs": runs, "seconds": 1.0, "episodes": list(rows)}


def test_all_agreed_and_explained_is_exit_0():
    s = summarize([_result("a", 2, _row("a", ["agree"] * 2, [EXPLAINED] * 2)),
                   _result("b", 1, _row("b", ["agree"], [EXPLAINED]),
                           _row("b", [], [], episode=2))])  # a LOOKING-only episode
    assert (s["checked"], s["agreed"], s["explained"], s["inconclusive"], s["disagreed"],
            s["not_checked"]) == (3, 3, 3, 0, 0, 1)
    assert s["exit_code"] == EXIT_OK and s["why"].startswith("exit 0: every real leader")


def test_a_budget_or_known_limit_is_inconclusive_exit_3():
    budget = "NOT explained after 29/40 events (state budget exhausted): server 1 ..."
    s = summarize([_result("o", 1, _row("o", ["agree"], [budget])),
                   _result("p", 1, _row("p", ["inconclusive"], [EXPLAINED], unknown={4}))])
    assert (s["agreed"], s["explained"], s["inconclusive"], s["disagreed"]) == (1, 1, 2, 0)
    assert s["exit_code"] == EXIT_INCOMPLETE and "2 episode run(s) are inconclusive" in s["why"]
    assert s["inconclusive_reasons"] == [
        "o #1: election log not explained after 29/40 events (state budget exhausted)",
        "p #1: real leader in the bracket's unknown part {4}: neither found nor excluded"]


def test_any_disagreement_wins_exit_1():
    unexplained = "NOT explained after 0/2 events (no matching model step): server 1 ..."
    s = summarize([_result("x", 2, _row("x", ["agree", "DISAGREE"], [EXPLAINED, EXPLAINED],
                                        notes={"joiner 3 changed the leader to 3"})),
                   _result("y", 1, _row("y", ["agree"], [unexplained])),
                   _result("z", 1, _row("z", ["agree"], ["NOT explained after 3/9 events "
                                                         "(state budget exhausted): ..."]))])
    assert (s["checked"], s["agreed"], s["disagreed"], s["inconclusive"]) == (4, 3, 2, 1)
    assert s["exit_code"] == EXIT_VIOLATION
    assert s["why"] == "exit 1: 2 episode run(s) disagree with the model"
    assert s["disagreements"] == [
        "x #1: real leader outside the model's set (joiner 3 changed the leader to 3)",
        "y #1: election log not explained (no model path)"]
