"""``zkcheck replay TRACE.json``: re-verify a stored trace against the current model."""

from __future__ import annotations

from pathlib import Path

import click

from zkcheck.api import build_model
from zkcheck.explorer import ReplayError
from zkcheck.explorer import replay as replay_trace
from zkcheck.tracefile import read_trace


@click.command()
@click.argument("trace_file", type=click.Path(path_type=Path))
def replay(trace_file: Path) -> int:
    """Re-execute a trace file's actions on the model and confirm every state.

    Exit 0 when every step replays, 1 at the first step the model no longer takes (the step
    is named), 2 when the file is unreadable.
    """
    spec, options, trace, meta = read_trace(trace_file)
    model = build_model(spec, **options)
    try:
        replay_trace(model, trace)
    except ReplayError as exc:
        click.echo(f"{trace_file}: does not replay: {exc}")
        return 1
    click.echo(
        f"{trace_file}: replays ({len(trace)} steps, {meta.get('status', '')} "
        f"{meta.get('property', '')})".replace("  ", " ")
    )
    return 0
