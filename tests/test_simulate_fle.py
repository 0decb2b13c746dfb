"""``zkcheck simulate`` on the FLE model: historic bugs found with fixed seeds and shortened
to breadth-first search's shortest length, reproducibility across walks and workers,
swarm configurations that replay, the command line, ``zkcheck replay`` and spec files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkcheck.cli import main
from zkcheck.explorer import VIOLATED
from zkcheck.explorer.walks import WalkSettings
from zkcheck.simulation import coverage_dict, run_simulation
from zkcheck.specs import load_spec, run_spec

R2 = {"late": [3], "max_round": 1, "variant_flags": ["exit_when_all_heard"]}
R3 = {"scenario": "established", "timeouts": 1,
      "variant_flags": ["checkleader_self_any_round"]}
R5 = {"scenario": "established", "late": [1], "variant_flags": ["connect_back_fails"]}
R6 = {"scenario": "leader-crash", "epoch": ["1=1:2", "2=1", "3=1:2"],
      "variant_flags": ["epoch_bump_strict"]}


def sim(options: dict, prop: str, seed: int = 1, walks: int = 200, **settings):
    return run_simulation("fle", options, WalkSettings(properties=(prop,), **settings), seed,
                          walks=walks)


# bug, property, scheduler, seed -> (violating walk, walk length, BFS's shortest length as
# recorded in specs/r*-buggy.toml)
CASES = [
    ("R2", R2, "DecisionSupported", "uniform", 0, 26, 12),
    ("R3", R3, "DecisionSupported", "pct", 8, 40, 13),
    ("R5", R5, "JoinerEventuallyJoins", "uniform", 0, 3, 3),
    ("R6", R6, "EventuallyElected", "uniform", 1, 25, 19),
]


@pytest.mark.parametrize(("bug", "options", "prop", "scheduler", "walk", "walked", "shortest"),
                         CASES, ids=[c[0] for c in CASES])
def test_historic_bug_found_and_shortened_to_the_bfs_length(
        bug, options, prop, scheduler, walk, walked, shortest) -> None:
    result = sim(options, prop, scheduler=scheduler)
    assert result.run.violation.index == walk
    assert result.run.coverage.walks == walk + 1
    verdict = result.result.verdicts[prop]
    assert verdict.status == VIOLATED
    assert result.shortened.original == walked
    assert len(verdict.trace) == shortest and result.shortened.exact


def test_same_seed_same_walks_alone_in_batches_and_across_workers() -> None:
    one = sim(R3, "DecisionSupported", scheduler="pct")
    again = sim(R3, "DecisionSupported", scheduler="pct")
    assert one.run.violation.labels == again.run.violation.labels
    alone = run_simulation("fle", R3, WalkSettings(properties=("DecisionSupported",),
                                                   scheduler="pct"), 1, walks=1, first=8,
                           shorten_states=None)
    assert alone.run.violation.labels == one.run.violation.labels
    assert len(alone.result.verdicts["DecisionSupported"].trace) == 40  # not shortened
    two = run_simulation("fle", R3, WalkSettings(properties=("DecisionSupported",),
                                                 scheduler="pct"), 1, walks=200, workers=2)
    assert two.run.violation.labels == one.run.violation.labels
    assert coverage_dict(two)["distinct_states"] == coverage_dict(one)["distinct_states"]
    assert two.run.coverage.steps == one.run.coverage.steps
    other = sim(R3, "DecisionSupported", seed=2, scheduler="pct")
    assert other.run.violation.labels != one.run.violation.labels


def test_swarm_walk_runs_with_its_own_budgets_and_its_trace_replays(tmp_path) -> None:
    code = main(["simulate", "--scenario", "established", "--timeouts", "1", "--crashes", "1",
                 "--restarts", "1", "--variant", "checkleader_self_any_round", "--swarm",
                 "--scheduler", "pct", "--property", "DecisionSupported", "--seed", "3",
                 "--walks", "400",
                 "--no-progress", "--json", "--out", str(tmp_path)])
    assert code == 1
    document = json.loads((tmp_path / "DecisionSupported" / "trace.json").read_text())
    options = document["#meta"]["zkcheck"]["options"]
    # walk 30 drew crashes 0, restarts 0 and kept the timeout the bug needs
    assert (options["crashes"], options["restarts"], options["timeouts"]) == (0, 0, 1)
    assert document["#meta"]["zkcheck"]["run"]["verdicts"][0]["length"] == 13
    assert main(["replay", str(tmp_path / "DecisionSupported" / "trace.json")]) == 0


def test_cli_violation_report_outputs_and_replay(capsys, tmp_path) -> None:
    code = main(["simulate", "--scenario", "established", "--timeouts", "1", "--variant",
                 "checkleader_self_any_round", "--scheduler", "pct", "--seed", "1",
                 "--walks", "50", "--no-progress", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "DecisionSupported            invariant  violated at depth 13 (walk 8 (seed 1)" in out
    assert "Leadership                   invariant  not violated in 9 walks of <= 100 steps" \
        in out
    verdicts = out.split("verdicts (sampling never proves a property holds):\n")[1]
    assert "holds" not in verdicts.split("coverage")[0]
    assert "shortened from 40 to 13 steps" in out
    assert "reproduce the walk: add --seed 1 --walk 8" in out
    assert "walks/s" in out and "steps/s" in out and "distinct states seen: 271 (exact)" in out
    assert "server 3 role: LEADING, LOOKING" in out
    for name in ("trace.json", "trace.svg", "trace.png", "report.html"):
        assert (tmp_path / "DecisionSupported" / name).stat().st_size > 0
    assert main(["replay", str(tmp_path / "DecisionSupported" / "trace.json")]) == 0
    assert "replays (13 steps, violated DecisionSupported)" in capsys.readouterr().out
    code = main(["simulate", "--scenario", "established", "--timeouts", "1", "--variant",
                 "checkleader_self_any_round", "--scheduler", "pct", "--seed", "1",
                 "--walk", "8", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1 and "walk 8 only, replayed exactly as it ran" in out
    assert "violated at depth 40" in out


def test_cli_json_coverage(capsys) -> None:
    code = main(["simulate", "--walks", "20", "--depth", "60", "--seed", "4", "--json",
                 "--property", "Leadership", "--property", "LeaderEstablished"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    coverage = data["coverage"]
    assert coverage["walks"] == 20 and coverage["distinct_states"]["exact"]
    assert coverage["steps"] == sum(coverage["steps_per_action_kind"].values())
    assert "crash" not in coverage["action_kinds_never_taken"]  # no crash budget: no kind
    assert set(coverage["features"]) >= {"server 1 role", "server 1 round"}
    verdict = next(v for v in data["verdicts"] if v["property"] == "Leadership")
    assert verdict["status"] == "not violated" and verdict["note"] == "in 20 walks of <= 60 steps"
    assert coverage["witnesses_first_walk"] == {"LeaderEstablished": 0}
    assert data["complete"] is False


def test_time_limit_and_progress_line(capsys) -> None:
    from zkcheck.commands.simulate import ProgressLine

    code = main(["simulate", "--model", "mutex:fixed", "--time", "0.3", "--depth", "5",
                 "--seed", "1", "--no-progress", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["coverage"]["stopped_by"] == "time"
    assert data["coverage"]["steps"] == 5 * data["coverage"]["walks"]
    line = ProgressLine(True)
    line.enabled = True  # as on a terminal
    sim = run_simulation("mutex:fixed", {}, WalkSettings(depth=5), 1, walks=16)
    line(sim.run)
    line.close()
    err = capsys.readouterr().err
    assert "walks 16 (" in err and "walks/s), steps 80 (" in err and "steps/s)" in err


@pytest.mark.parametrize("args", [
    ["--walks", "0"], ["--depth", "0"], ["--change-points", "-1"], ["--scheduler", "random"],
    ["--walk", "3"], ["--model", "mutex", "--swarm"], ["--property", "Nope"],
])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, args) -> None:
    assert main(["simulate", "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zkcheck: error: ") and err.count("\n") == 1


def test_spec_with_strategy_simulate(tmp_path) -> None:
    spec = load_spec(Path("specs/r3-1514-simulate.toml"))
    outcome = run_spec(spec)
    assert outcome.passed, outcome.mismatches
    assert outcome.result.verdicts["DecisionSupported"].status == VIOLATED
    bad = tmp_path / "holds.toml"
    bad.write_text('model = "mutex:fixed"\n[search]\nstrategy = "simulate"\nwalks = 5\n'
                   'seed = 1\n[expect.verdicts]\nMutualExclusion = "holds"\n')
    with pytest.raises(Exception, match="never that a property holds"):
        load_spec(bad)
