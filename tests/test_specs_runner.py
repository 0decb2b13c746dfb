"""`zkcheck check`: verdict and count comparison, JUnit XML, --update-counts."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from zkcheck.cli import main
from zkcheck.errors import InputError
from zkcheck.specs import load_spec

DATA = Path(__file__).parent / "data" / "specs"


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    target = tmp_path / "specs"
    shutil.copytree(DATA, target)
    return target


def test_all_pass_with_junit(specs: Path, tmp_path: Path, capsys) -> None:
    junit = tmp_path / "out.xml"
    assert main(["check", str(specs), "--junit", str(junit)]) == 0
    out = capsys.readouterr().out
    assert "2 passed, 0 failed" in out
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "0"
    assert sorted(c.get("name") for c in suite) == ["counter-reset", "mutex"]


def test_verdict_mismatch_fails(specs: Path, tmp_path: Path, capsys) -> None:
    spec = specs / "mutex.toml"
    spec.write_text(spec.read_text().replace('length = 4', 'length = 5'))
    junit = tmp_path / "out.xml"
    assert main(["check", str(specs), "--junit", str(junit)]) == 1
    assert "1 passed, 1 failed" in capsys.readouterr().out
    failure = ET.parse(junit).getroot().find("testcase[@name='mutex']/failure")
    assert failure.get("message") == "MutualExclusion: expected a trace of 5 steps, got 4"


def test_count_drift_fails_and_update_counts_records(specs: Path, capsys) -> None:
    spec = specs / "mutex.toml"
    spec.write_text(spec.read_text().replace("distinct_states = 9", "distinct_states = 8"))
    assert main(["check", str(spec)]) == 1
    assert "distinct states drifted: recorded 8, got 9" in capsys.readouterr().out
    assert main(["check", str(spec), "--update-counts"]) == 0
    assert load_spec(spec).expected_states == 9
    assert main(["check", str(spec)]) == 0


def test_bad_specs_are_input_errors(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    for text, message in [
        ("model = \n", "bad.toml:1: "),
        ('model = "mutex"\n', "[expect.verdicts] is empty"),
        ('model = "mutex"\nfoo = 1\n', "unknown key 'foo'"),
        ('model = "mutex"\n[search]\nstrategy = "x"\n[expect.verdicts]\nA = "holds"\n',
         "strategy must be bfs, dfs or simulate"),
    ]:
        bad.write_text(text)
        with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_spec(bad)
    assert main(["check", str(tmp_path / "missing")]) == 2
    assert "no such file" in capsys.readouterr().err
