"""The command line on toy models: output, JSON, trace files, replay and every exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zkcheck.cli import main
from zkcheck.progress import project


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_0_when_everything_holds(capsys) -> None:
    code, out, _ = run(capsys, "explore", "--model", "mutex:fixed", "--no-progress")
    assert code == 0
    assert "coverage: complete" in out
    assert "MutualExclusion" in out and "holds" in out
    assert "statistics: 3 distinct states" in out


def test_exit_1_on_violation_with_trace(capsys) -> None:
    code, out, _ = run(capsys, "explore", "--model", "mutex", "--no-progress")
    assert code == 1
    assert "violated at depth 4" in out
    assert "counterexample for MutualExclusion (4 steps)" in out
    assert "p2:enter" in out


def test_exit_1_when_witness_missing(capsys) -> None:
    code, out, _ = run(capsys, "explore", "--model", "grid:2,2", "--property", "Beyond")
    assert code == 1 and "witness not found" in out


def test_exit_2_on_bad_input(capsys) -> None:
    for args in (["explore", "--model", "grid:x"], ["explore", "--model", "grid:2,2",
                 "--depth", "-3"], ["explore", "--nope"], ["explore", "--model", "nope"],
                 ["explore", "--model", "grid:2,2", "--property", "Nope"],
                 ["replay", "/does/not/exist.json"]):
        code, out, err = run(capsys, *args)
        assert code == 2, args
        assert err.count("\n") == 1 and err.startswith("zkcheck: error: "), err
        assert "Traceback" not in err


def test_exit_3_with_require_complete(capsys) -> None:
    args = ["explore", "--model", "grid:5,5", "--depth", "3", "--property", "InBounds"]
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "depth bound 3 hit: 4 states left on the frontier" in out
    assert "holds within bounds" in out
    code, _, _ = run(capsys, *args, "--require-complete")
    assert code == 3
    code, _, _ = run(capsys, "explore", "--model", "grid:2,2", "--depth", "4",
                     "--require-complete", "--property", "InBounds")
    assert code == 0  # the bound did not cut anything


def test_json_document(capsys) -> None:
    code, out, _ = run(capsys, "explore", "--model", "grid:3,4", "--json", "--check-deadlock")
    assert code == 1
    doc = json.loads(out)
    assert doc["complete"] is True
    assert doc["stats"]["distinct_states"] == 20
    assert doc["stats"]["levels"] == [1, 2, 3, 4, 4, 3, 2, 1]
    statuses = {v["property"]: v["status"] for v in doc["verdicts"]}
    assert statuses == {"InBounds": "holds", "NotCorner": "violated",
                        "Corner": "witness found", "Beyond": "witness not found"}
    not_corner = next(v for v in doc["verdicts"] if v["property"] == "NotCorner")
    assert not_corner["trace"]["length"] == 7
    assert doc["deadlocks"] == {"checked": True, "count": 1,
                                "trace": doc["deadlocks"]["trace"]}


def test_trace_files_replay(capsys, tmp_path: Path) -> None:
    code, _, _ = run(capsys, "explore", "--model", "mutex", "--out", str(tmp_path))
    assert code == 1
    trace_file = tmp_path / "MutualExclusion" / "trace.json"
    assert {p.name for p in (tmp_path / "MutualExclusion").iterdir()} == {
        "trace.json", "trace.svg", "trace.png", "report.html"}
    document = json.loads(trace_file.read_text())
    assert [s["#meta"]["action"] for s in document["states"]] == [
        "Init", "p1:check", "p2:check", "p1:enter", "p2:enter"]
    code, out, _ = run(capsys, "replay", str(trace_file))
    assert code == 0 and "replays (4 steps" in out
    # a trace that no longer replays is an error, not a silent pass
    document["states"][3]["#raw"] = [0, 0]
    trace_file.write_text(json.dumps(document))
    code, out, _ = run(capsys, "replay", str(trace_file))
    assert code == 1 and "step 3" in out
    trace_file.write_text("{not json")
    code, _, err = run(capsys, "replay", str(trace_file))
    assert code == 2 and "not a JSON trace file" in err


def test_fle_options_are_refused_for_toys(capsys) -> None:
    code, _, err = run(capsys, "explore", "--model", "grid:2,2", "--servers", "5")
    assert code == 2 and "--servers applies only to --model fle" in err


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_prints_statistics_marked_incomplete(tmp_path) -> None:
    exe = Path(sys.executable).with_name("zkcheck")
    marker = tmp_path / "ck"  # the first level's checkpoint: the search is running
    proc = subprocess.Popen([str(exe), "explore", "--model", "grid:5000,5000", "--property",
                             "InBounds", "--checkpoint", str(marker), "--checkpoint-every",
                             "3600"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            # as from a terminal, even when this run is a background job
                            # (which inherits SIGINT ignored)
                            preexec_fn=_default_sigint)
    deadline = time.time() + 120
    while not (marker / "current").exists() and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "interrupted" in out and "INCOMPLETE" in out
    assert "statistics:" in out and "Traceback" not in err


@pytest.mark.parametrize("search", ["bfs", "dfs"])
def test_search_option(capsys, search: str) -> None:
    code, out, _ = run(capsys, "explore", "--model", "philosophers:3", "--search", search,
                       "--check-deadlock")
    assert code == 1 and "14 distinct states" in out and "1 deadlocked states" in out


def test_projection_of_a_stopped_run() -> None:
    # levels 1 2 4 8 growing x2: two more levels to depth 5 are 16 + 32 states
    rest = project([1, 2, 4, 8], 5, rate=10.0, bytes_per_state=10.0)
    assert (rest.growth, rest.states, rest.seconds, rest.store_bytes) == (2.0, 48.0, 4.8, 480.0)
    assert project([1, 2, 4, 8], None, 10.0, 10.0).states is None  # growing, no bound
    assert project([8, 4, 2], None, 10.0, 10.0).states == 2.0  # 1 + 0.5 + ... after 2
    assert project([5], 9, 10.0, 10.0) is None
    # memory: the 15 states so far at 100 B plus 48 more at 10 B; disk: the deepest level
    # (32 states) and the one before it (16) at 10 B each
    rest = project([1, 2, 4, 8], 5, 10.0, 10.0, resident_per_state=100.0, spill_per_state=10.0)
    assert (rest.memory_bytes, rest.disk_bytes) == (1980.0, 480.0)
    shrinking = project([8, 4, 2], None, 10.0, 10.0, 100.0, 10.0)
    assert shrinking.disk_bytes == 15.0  # the next level (1 state) and its successor (0.5)


def test_stopped_run_prints_its_projection(capsys) -> None:
    # grid diagonals: levels 1..10; the state bound stops inside level 9 (10 states), so
    # the growth is 9/8 and depth 20 needs sum(9 * 1.125**i, i = 1..12) = 251.9 more
    args = ["explore", "--model", "grid:100,100", "--max-states", "50", "--depth", "20",
            "--no-progress"]
    code, out, _ = run(capsys, *args, "--json")
    doc = json.loads(out)
    assert doc["stats"]["levels"] == list(range(1, 11))
    assert doc["projection"]["growth_per_level"] == 1.125
    assert round(doc["projection"]["more_states"], 1) == 251.9
    code, out, _ = run(capsys, *args)
    assert "projection: levels grow x1.12 per step; reaching depth 20 would take about 252 " \
        "more states" in out
    code, out, _ = run(capsys, "explore", "--model", "grid:100,100", "--depth", "20",
                       "--no-progress")
    assert "projection" not in out  # the depth bound itself stopped it: nothing to project
