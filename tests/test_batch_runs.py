"""Long batch runs: stopping at a witness, and a progress line in a log file."""

from __future__ import annotations

import pytest

from zkcheck import progress
from zkcheck.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_stop_at_witness_ends_the_level_of_the_witness(capsys, workers: str) -> None:
    """A 3-server leader crash: the first re-established leader lies 20 steps deep; the
    run stops at the end of that level, with the same counts for every worker count."""
    code, out, _ = run(capsys, "explore", "--servers", "3", "--scenario", "leader-crash",
                       "--stop-at-witness", "LeaderEstablished", "--no-progress",
                       "--workers", workers)
    assert code == 0
    assert "stopped: witness found (LeaderEstablished): 1 states left on the frontier" in out
    assert "witness found at depth 20" in out
    assert "statistics: 145 distinct states, 210 generated" in out
    assert "coverage: INCOMPLETE" in out
    # the graph is not recorded for a run stopped early: liveness is not checked
    assert "EventuallyElected            liveness   not checked" in out


def test_stop_at_witness_without_por_matches_full_search_counts(capsys) -> None:
    code, out, _ = run(capsys, "explore", "--servers", "3", "--scenario", "leader-crash",
                       "--stop-at-witness", "LeaderEstablished", "--no-progress", "--no-por")
    assert code == 0
    assert "statistics: 366 distinct states, 786 generated" in out
    assert "states per depth: 1 2 3 6 9 14 22 30 37 34 31 32 31 31 28 22 15 8 5 3 2" in out


def test_stop_at_witness_refuses_a_name_that_is_no_witness(capsys) -> None:
    code, _, err = run(capsys, "explore", "--servers", "3", "--stop-at-witness", "Leadership")
    assert code == 2
    assert err.strip().splitlines()[-1].startswith(
        "zkcheck: error: --stop-at-witness Leadership: not a witness property")


def test_progress_is_logged_when_stderr_is_not_a_terminal(capsys, monkeypatch) -> None:
    monkeypatch.setattr(progress, "LOG_EVERY", 0.0)
    code, _, err = run(capsys, "explore", "--servers", "3", "--depth", "8")
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("progress: states ")]
    assert lines, err
    assert "states/s" in lines[-1] and "depth" in lines[-1]


def test_no_progress_silences_the_log(capsys, monkeypatch) -> None:
    monkeypatch.setattr(progress, "LOG_EVERY", 0.0)
    _, _, err = run(capsys, "explore", "--servers", "3", "--depth", "8", "--no-progress")
    assert "progress:" not in err
