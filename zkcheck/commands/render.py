"""``zkcheck render``: draw a trace file (sequence chart, HTML report, text view) or a
state graph (around a trace, or the whole graph of a small run)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zkcheck.api import build_model
from zkcheck.errors import InputError
from zkcheck.explorer import Bounds, ReplayError, replay
from zkcheck.outpaths import announce, check_output_file
from zkcheck.render.outputs import FORMATS, SUFFIX_FORMATS, render_story
from zkcheck.render.sequence import render_bytes
from zkcheck.render.stategraph import MAX_NODES, explored_graph, graph_dot, trace_neighbourhood
from zkcheck.render.story import story_of
from zkcheck.tracefile import read_trace


def _format(output: Path | None, fmt: str | None, graph: bool) -> str:
    if fmt is not None:
        return fmt
    if output is None or str(output) == "-":
        return "dot" if graph else "txt"
    suffix = output.suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise InputError(f"{output}: cannot tell the format from the suffix {suffix or '(none)'}"
                         " (use .dot, .svg, .png, .html, .txt, .json or --format)")
    return SUFFIX_FORMATS[suffix]


def _write(output: Path | None, data: bytes) -> None:
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        announce(output)


@click.command()
@click.argument("trace_file", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file; the format follows the suffix (.dot .svg .png .html .txt "
                   ".json). Default: the text view (or DOT for --graph) on stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format, overriding the suffix.")
@click.option("--graph", is_flag=True,
              help="Draw the state graph instead: around TRACE_FILE's states, or, with "
                   "--model and no trace, the whole explored graph of a small run.")
@click.option("--model", "model_spec", default=None, metavar="SPEC",
              help="With --graph and no trace: the model to explore (e.g. mutex, grid:3,4).")
@click.option("--depth", type=int, default=None, help="With --graph --model: depth bound.")
@click.option("--radius", type=int, default=1, show_default=True,
              help="With --graph and a trace: include states this many steps off the trace.")
@click.option("--max-nodes", type=int, default=MAX_NODES, show_default=True,
              help="Refuse state graphs with more states than this.")
@click.option("--no-check", is_flag=True,
              help="Render without first replaying the trace against the model.")
def render(trace_file: Path | None, output: Path | None, fmt: str | None, graph: bool,
           model_spec: str | None, depth: int | None, radius: int, max_nodes: int,
           no_check: bool) -> int:
    """Render TRACE_FILE (a trace.json written by explore --out) as a sequence chart
    (.dot/.svg/.png), an HTML report (.html), the text view (.txt) or the trace JSON.

    The trace is replayed against the current model first: a trace that no longer
    replays is an error (exit 2) naming the first bad step (skip with --no-check).
    """
    form = _format(output, fmt, graph)
    if output is not None and str(output) != "-":
        check_output_file(output, "-o")
    if graph:
        return _graph(trace_file, output, form, model_spec, depth, radius, max_nodes)
    if trace_file is None:
        raise InputError("render needs a TRACE_FILE (or --graph --model SPEC)")
    if model_spec is not None or depth is not None:
        raise InputError("--model and --depth apply only to --graph without a trace")
    spec, options, trace, meta = read_trace(trace_file)
    model = build_model(spec, **options)
    if not no_check:
        try:
            replay(model, trace)
        except ReplayError as exc:
            raise InputError(f"{trace_file}: does not replay on the current model: {exc}"
                             ) from None
    story = story_of(model, trace, meta.get("property", ""), meta.get("status", ""))
    document = None
    if form == "json":
        import json

        document = json.loads(trace_file.read_text())
    _write(output, render_story(story, form, meta.get("run"), document))
    return 0


def _graph(trace_file: Path | None, output: Path | None, form: str, model_spec: str | None,
           depth: int | None, radius: int, max_nodes: int) -> int:
    if form not in ("dot", "svg", "png"):
        raise InputError(f"--graph draws dot, svg or png, not {form}")
    if radius < 0 or max_nodes < 1 or (depth is not None and depth < 0):
        raise InputError("--radius and --depth must be >= 0, --max-nodes >= 1")
    if trace_file is not None:
        if model_spec is not None:
            raise InputError("give either a trace file or --model, not both")
        spec, options, trace, meta = read_trace(trace_file)
        model = build_model(spec, **options)
        g = trace_neighbourhood(model, trace, radius, max_nodes)
        title = (f"{meta.get('property', '')}: {len(trace)} steps and the states within "
                 f"{radius} step(s)")
    elif model_spec is not None:
        model = build_model(model_spec)
        g = explored_graph(model, Bounds(max_depth=depth), max_nodes)
        title = f"{model_spec}: {g.number_of_nodes()} states" + (
            f" within depth {depth}" if depth is not None else "")
    else:
        raise InputError("--graph needs a TRACE_FILE or --model SPEC")
    _write(output, render_bytes(graph_dot(g, title), form))
    return 0
