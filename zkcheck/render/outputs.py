"""What ``zkcheck explore --out DIR`` writes, and the single-trace renderings behind
``zkcheck render``: one directory per violated property and requested witness with
``trace.json`` (ITF, replayable), ``trace.svg``, ``trace.png`` and ``report.html``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from zkcheck.errors import InputError
from zkcheck.explorer import VIOLATED, WITNESS_FOUND, Result, Trace
from zkcheck.explorer.model import Model, PropertyKind
from zkcheck.outpaths import announce
from zkcheck.render.html import html_report
from zkcheck.render.sequence import render_bytes, sequence_chart
from zkcheck.render.story import Story, story_of
from zkcheck.render.text import story_lines
from zkcheck.tracefile import run_summary, trace_document, write_trace

CHART_MAX_STEPS = 400
"""Longer traces get no chart (dot's layout time grows quickly); the table still shows all."""

SUFFIX_FORMATS = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".html": "html",
                  ".htm": "html", ".txt": "txt", ".json": "json"}
FORMATS = ("dot", "svg", "png", "html", "txt", "json")


def witness_names(model: Model, names: Iterable[str], option: str = "--witness") -> list[str]:
    """Validate ``--witness NAME`` (or ``option``) values: each must be a witness property
    of the model (``all`` = every one). InputError (one line) otherwise."""
    witnesses = [p.name for p in model.properties() if p.kind is PropertyKind.WITNESS]
    chosen: list[str] = []
    for name in names:
        if name == "all":
            chosen.extend(witnesses)
        elif name in witnesses:
            chosen.append(name)
        else:
            known = ", ".join(witnesses) or "none"
            raise InputError(f"{option} {name}: not a witness property of this model "
                             f"(witnesses: {known})")
    return list(dict.fromkeys(chosen))


def render_story(story: Story, fmt: str, run: dict[str, Any] | None = None,
                 document: dict[str, Any] | None = None, command: str = "") -> bytes:
    """One rendering of a story: dot/svg/png chart, html report, txt view or json trace."""
    if fmt in ("dot", "svg", "png"):
        return render_bytes(sequence_chart(story), fmt)
    if fmt == "html":
        svg = None
        if len(story.steps) - 1 <= CHART_MAX_STEPS:
            svg = render_bytes(sequence_chart(story), "svg").decode()
        return html_report(story, svg, run, command).encode()
    if fmt == "txt":
        return ("\n".join(story_lines(story, indent="")) + "\n").encode()
    if fmt == "json" and document is not None:
        import json

        return (json.dumps(document, indent=1) + "\n").encode()
    raise InputError(f"unknown output format {fmt!r} (one of {', '.join(FORMATS)})")


def write_trace_outputs(model: Model, trace: Trace, directory: Path, model_spec: str,
                        options: dict[str, Any], prop: str, status: str,
                        run: dict[str, Any] | None = None, command: str = "") -> list[Path]:
    """trace.json, trace.svg, trace.png and report.html for one trace, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    document = trace_document(model, trace, model_spec, options, prop, status, run)
    json_path = directory / "trace.json"
    write_trace(json_path, document)
    story = story_of(model, trace, prop, status)
    written = [json_path]
    if len(trace) <= CHART_MAX_STEPS:
        chart = sequence_chart(story)
        svg = render_bytes(chart, "svg")
        (directory / "trace.svg").write_bytes(svg)
        (directory / "trace.png").write_bytes(render_bytes(chart, "png"))
        written += [directory / "trace.svg", directory / "trace.png"]
        page = html_report(story, svg.decode(), run, command)
    else:
        page = html_report(story, None, run, command)
    (directory / "report.html").write_text(page)
    written.append(directory / "report.html")
    for path in written:
        announce(path)
    return written


def write_outputs(model: Model, result: Result, out_dir: Path, model_spec: str,
                  options: dict[str, Any], witnesses: Iterable[str] = (),
                  command: str = "",
                  trace_model: Callable[[str], tuple[Model, dict[str, Any]]] | None = None,
                  ) -> list[Path]:
    """For every violated property, every found witness named in ``witnesses`` and a
    deadlock trace (if deadlocks were checked), write ``out_dir/<Property>/`` with
    trace.json, trace.svg, trace.png and report.html. Returns the directories written.
    ``trace_model(property)`` gives the model and options of a trace when they differ per
    trace (a swarm walk runs with its own fault budgets)."""
    wanted = set(witnesses)
    run = run_summary(result)
    dirs = []
    for verdict in result.verdicts.values():
        if verdict.trace is None:
            continue
        if verdict.status == VIOLATED or (verdict.status == WITNESS_FOUND
                                          and verdict.name in wanted):
            directory = out_dir / verdict.name
            own, own_options = (model, options) if trace_model is None else trace_model(
                verdict.name)
            write_trace_outputs(own, verdict.trace, directory, model_spec, own_options,
                                verdict.name, verdict.status, run, command)
            dirs.append(directory)
    if result.deadlock_trace is not None:
        directory = out_dir / "deadlock"
        write_trace_outputs(model, result.deadlock_trace, directory, model_spec, options,
                            "deadlock", VIOLATED, run, command)
        dirs.append(directory)
    return dirs

