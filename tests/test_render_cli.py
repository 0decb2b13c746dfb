"""``zkcheck render``: every output format, --graph, and bad input as one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkcheck.api import build_model
from zkcheck.cli import main
from zkcheck.explorer import explore
from zkcheck.render.outputs import write_outputs


@pytest.fixture
def mutex_trace(tmp_path: Path) -> Path:
    model = build_model("mutex")
    write_outputs(model, explore(model), tmp_path, "mutex", {})
    return tmp_path / "MutualExclusion" / "trace.json"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("suffix,magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"),
                                          (".dot", b"digraph"), (".html", b"<!DOCTYPE html>"),
                                          (".txt", b"property: MutualExclusion: at most one "
                                                   b"process is in its critical section\n"
                                                   b"1. p1:check"), (".json", b"{")])
def test_render_by_suffix(capsys, tmp_path: Path, mutex_trace: Path, suffix: str,
                          magic: bytes) -> None:
    out = tmp_path / f"chart{suffix}"
    code, _, err = run(capsys, "render", str(mutex_trace), "-o", str(out))
    assert code == 0, err
    assert out.read_bytes().startswith(magic)


def test_render_format_option_and_stdout(capsys, mutex_trace: Path) -> None:
    code, out, _ = run(capsys, "render", str(mutex_trace), "--format", "dot")
    assert code == 0 and out.startswith("digraph sequence")
    code, out, _ = run(capsys, "render", str(mutex_trace))
    assert code == 0 and "4. p2:enter  <== VIOLATION" in out


def test_render_graph(capsys, tmp_path: Path, mutex_trace: Path) -> None:
    code, out, _ = run(capsys, "render", str(mutex_trace), "--graph")
    assert code == 0 and out.startswith("digraph states") and 'class="state trace"' in out
    out_file = tmp_path / "g.svg"
    assert run(capsys, "render", "--graph", "--model", "grid:2,2", "-o", str(out_file))[0] == 0
    assert out_file.read_text().count('class="node state"') == 9


def test_render_bad_input(capsys, tmp_path: Path, mutex_trace: Path) -> None:
    broken = tmp_path / "broken.json"
    document = json.loads(mutex_trace.read_text())
    document["states"][2]["#meta"]["action"] = "p1:exit"
    broken.write_text(json.dumps(document))
    not_json = tmp_path / "x.json"
    not_json.write_text("{")
    cases = [
        ["render", str(tmp_path / "missing.json")],
        ["render", str(not_json)],
        ["render", str(mutex_trace), "-o", str(tmp_path / "chart.gif")],
        ["render", str(broken)],
        ["render"],
        ["render", "--graph", "--model", "grid:30,30"],
        ["render", "--graph", "--model", "grid:2,2", "-o", str(tmp_path / "g.html")],
        ["render", str(mutex_trace), "--model", "mutex"],
    ]
    capsys.readouterr()  # the fixture's "wrote ..." lines
    for args in cases:
        code, _, err = run(capsys, *args)
        assert code == 2, args
        assert err.startswith("zkcheck: error: ") and err.count("\n") == 1, err
    assert "does not replay on the current model: step 2" in run(
        capsys, "render", str(broken))[2]
    assert run(capsys, "render", str(broken), "--no-check", "--format", "txt")[0] == 0
