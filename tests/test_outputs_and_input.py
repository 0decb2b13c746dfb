"""What a run writes is named on stderr, and bad input is refused before anything runs.

Each refusal must be exit 2 with one line ``zkcheck: error: ...`` and no traceback; an
output path that cannot be written is refused before a search that would take minutes
(the 3-server depth-20 run below takes about a minute when it is allowed to start).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from zkcheck.cli import main

LONG_RUN = ["explore", "--servers", "3", "--depth", "20", "--no-progress"]
SPEC = """model = "fle"

[options]
servers = 2

[search]
depth = 3

[expect.verdicts]
Leadership = "holds within bounds"
"""


def run(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *args: str | Path) -> str:
    """Run, expect exit 2 with one error line, return that line."""
    started = time.perf_counter()
    code, out, err = run(capsys, *args)
    assert code == 2, (args, out, err)
    assert err.startswith("zkcheck: error: ") and err.count("\n") == 1, err
    assert time.perf_counter() - started < 10, "refused only after working"
    return err


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a directory\n")
    return path


def test_unwritable_output_directories_are_refused_before_the_search(capsys, a_file: Path,
                                                                     tmp_path: Path) -> None:
    for option in ("--out", "--checkpoint", "--spill"):
        err = refused(capsys, *LONG_RUN, option, a_file / "sub")
        assert f"{option} {a_file / 'sub'}: cannot write there (Not a directory)" in err
    # mkdir fails in /proc even for root, whom permission bits do not stop
    assert "cannot write there" in refused(capsys, *LONG_RUN, "--out", "/proc/zkcheck-out")
    assert "cannot write there" in refused(capsys, "simulate", "--walks", "5", "--out",
                                           a_file / "x")
    assert list(tmp_path.iterdir()) == [a_file]


def test_the_writability_probe_leaves_nothing_behind(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "explore", "--model", "grid:2,2", "--property", "InBounds", "--out",
                       tmp_path / "new" / "deeper")
    assert code == 0 and err == ""  # nothing violated: nothing written, nothing named
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("args,message", [
    (["--max-states", "0"], "--max-states must be >= 1, got 0"),
    (["--time", "0"], "--time must be > 0 seconds, got 0.0"),
    (["--time", "-5"], "--time must be > 0 seconds"),
    (["--depth", "-1"], "--depth must be >= 0, got -1"),
    (["--check-independence", "-1"], "--check-independence must be >= 0"),
    (["--crashes", "-1"], "crashes must be an integer >= 0, got -1"),
    (["--timeouts", "-2"], "timeouts must be an integer >= 0, got -2"),
    (["--max-round", "-1"], "max-round must be an integer >= 0"),
    (["--workers", "-1"], "--workers must be >= 0"),
    (["--level-memory", "0"], "--level-memory must be >= 1"),
])
def test_bad_budgets_exit_2(capsys, args: list[str], message: str) -> None:
    assert message in refused(capsys, *LONG_RUN, *args)


def test_depth_zero_checks_the_initial_states(capsys) -> None:
    code, out, _ = run(capsys, "explore", "--servers", "2", "--depth", "0", "--no-progress")
    assert code == 0 and "statistics: 1 distinct states" in out


def test_other_commands_refuse_bad_numbers(capsys, tmp_path: Path) -> None:
    assert "--walks" in refused(capsys, "simulate", "--walks", "0")
    assert "--workers" in refused(capsys, "check", "--workers", "-1", tmp_path)


def test_every_file_written_is_named(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "explore", "--model", "mutex", "--out", tmp_path / "out")
    assert code == 1
    written = sorted(p for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert [p.name for p in written] == ["report.html", "trace.json", "trace.png", "trace.svg"]
    assert sorted(err.splitlines()) == sorted(f"wrote {p}" for p in written)
    chart = tmp_path / "chart.svg"
    code, _, err = run(capsys, "render", written[1], "-o", chart)
    assert code == 0 and err == f"wrote {chart}\n" and chart.exists()
    assert "does not exist" in refused(capsys, "render", written[1], "-o",
                                       tmp_path / "missing" / "c.svg")
    assert "is a directory" in refused(capsys, "render", written[1], "-o", tmp_path)
    code, _, err = run(capsys, "explore", "--model", "mutex", "--checkpoint", tmp_path / "ck")
    assert code == 1 and f"wrote {tmp_path / 'ck'}/ (checkpoint" in err


def test_check_names_its_junit_file_and_refuses_an_unwritable_one(capsys, tmp_path: Path,
                                                                   a_file: Path) -> None:
    spec = tmp_path / "specs" / "two.toml"
    spec.parent.mkdir()
    spec.write_text(SPEC)
    junit = tmp_path / "specs.xml"
    code, _, err = run(capsys, "check", spec.parent, "--junit", junit, "--no-progress")
    assert code == 0 and err == f"wrote {junit}\n" and junit.exists()
    assert "--junit" in refused(capsys, "check", spec.parent, "--junit", a_file / "x.xml")
    code, _, err = run(capsys, "check", spec, "--update-counts", "--no-progress")
    assert code == 0 and err == f"wrote {spec}\n" and "distinct_states = " in spec.read_text()


@pytest.mark.parametrize("edit,message", [
    (("[search]\n", "[search]\ndpeth = 3\n"), "two.toml:7: unknown [search] key 'dpeth'"),
    (("model =", "mdoel = \"fle\"\nmodel ="), "two.toml:1: unknown key 'mdoel'"),
    (('= "holds within bounds"', '= "holds whithin bounds"'),
     "two.toml:10: expect.verdicts.Leadership: unknown status 'holds whithin bounds'"),
    (("Leadership =", "Leadershp ="), "two.toml:10: expect.verdicts: unknown property "
                                      "'Leadershp'"),
    (("depth = 3", 'depth = 3\nproperties = ["Leadership", "EpochMonotnic"]'),
     "two.toml:8: search.properties: unknown property 'EpochMonotnic'"),
    (('"holds within bounds"', '{ status = "holds within bounds", lenght = 3 }'),
     "two.toml:10: unknown [expect.verdicts.Leadership] key 'lenght'"),
    (("servers = 2", "servers = 2\nsevrers = 3"), "two.toml:5: [options] unknown FLE option "
                                                  "'sevrers'"),
    (("servers = 2", "servers = 2\ncrashes = -1"), "two.toml:5: [options] fault budget "
                                                   "crashes must be an integer >= 0"),
    (("[expect.verdicts]\n", "[expect.verdicts]\nX = 3\n"), "two.toml:10: expect.verdicts.X "
                                                           "must be a status"),
    (("depth = 3", "depth = "), "two.toml:7: "),
    (("depth = 3", 'depth = 3\nprefix = ["start 1", "decide 2"]'),
     "two.toml:8: search.prefix: prefix step 2 ('decide 2') is not enabled after the steps "
     "before it"),
    (("depth = 3", 'depth = 3\nprefix = "start 1"'),
     "two.toml:8: search.prefix must be a list of action labels (bfs or dfs)"),
])
def test_bad_specs_name_file_and_line_before_any_spec_runs(capsys, tmp_path: Path,
                                                          edit: tuple[str, str],
                                                          message: str) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "one.toml").write_text(SPEC)  # valid, sorted first: must not run either
    (specs / "two.toml").write_text(SPEC.replace(*edit, 1))
    code, out, err = run(capsys, "check", specs)
    assert code == 2 and out == "", out
    assert err.startswith(f"zkcheck: error: {specs / message}") and err.count("\n") == 1, err
