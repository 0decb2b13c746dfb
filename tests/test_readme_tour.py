"""The README's quick start and tour run, in order, as a new user would type them.

Every command of a block marked ``<!-- tour: ... -->`` in README.md is run in a fresh
directory holding the repository's ``examples/`` and ``specs/`` (what a clone has), with
the ``zkcheck`` script of this installation, and must exit with the code its comment
states (``# exit N``). Files a command writes with ``--out`` must be named on stderr.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXIT = re.compile(r"#\s*exit\s+(\d)\b")
# pages that other parts of this release add; every other link must resolve
PENDING_PAGES = {"docs/conformance.md", "docs/semantics.md", "docs/logs.md", "docs/json.md",
                 "docs/models.md"}


def tour_commands(text: str) -> list[tuple[str, int]]:
    """(command, expected exit code) of every tour block, in README order."""
    commands = []
    for block in re.findall(r"<!-- tour: [^>]*-->\s*```[^\n]*\n(.*?)```", text, re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            if not line.strip():
                continue
            expected = EXIT.search(line)
            assert line.startswith("zkcheck ") and expected, f"tour line without '# exit N': {line}"
            commands.append((line[:line.index("#")].strip(), int(expected.group(1))))
    return commands


def files_of(directory: Path) -> dict[str, int]:
    """Every file under ``directory`` (relative path) with its modification time."""
    return {str(p.relative_to(directory)): p.stat().st_mtime_ns for p in directory.rglob("*")
            if p.is_file()}


def zkcheck_command() -> list[str]:
    script = Path(sys.executable).parent / "zkcheck"
    return [str(script)] if script.exists() else [sys.executable, "-m", "zkcheck"]


def test_readme_is_a_short_guide_without_outside_citations() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 400
    first_block = re.search(r"```\n(.*?)```", text, re.DOTALL).group(1)
    assert first_block.split() == ["make", "run", "make", "test"]
    assert "reference/" not in text and "prove-leadership.md" not in text
    for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if "://" not in link and link not in PENDING_PAGES:
            assert (ROOT / link).exists(), link


def test_tour_blocks_are_found() -> None:
    commands = tour_commands(README.read_text())
    assert len(commands) >= 12
    assert commands[0] == ("zkcheck prove quorum examples/zoo.cfg", 0)


@pytest.mark.slow
def test_quick_start_and_tour_run_in_order(tmp_path: Path) -> None:
    for directory in ("examples", "specs"):
        shutil.copytree(ROOT / directory, tmp_path / directory)
    for command, expected in tour_commands(README.read_text()):
        args = shlex.split(command)
        before = files_of(tmp_path)
        done = subprocess.run(zkcheck_command() + args[1:], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == expected, (command, done.stdout[-2000:], done.stderr[-2000:])
        assert "Traceback" not in done.stderr, command
        if expected == 2:
            assert done.stderr.startswith("zkcheck: error: ") and done.stderr.count("\n") == 1
        written = sorted(path for path, stamp in files_of(tmp_path).items()
                         if before.get(path) != stamp)
        for path in written:  # every file a command writes is named on stderr
            assert f"wrote {path}" in done.stderr, (command, path)
        assert written or "--out" not in args, command
    assert (tmp_path / "out/DecisionSupported/report.html").exists()
    assert (tmp_path / "election.html").read_text().startswith("<!DOCTYPE html>")
