"""The progress line on stderr (rich): states, states/s, depth, frontier, elapsed time."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.text import Text

from zkcheck.explorer import Progress


def _line(p: Progress) -> Text:
    rate = p.distinct / p.elapsed if p.elapsed > 0 else 0.0
    return Text(
        f"states {p.distinct:,}  generated {p.generated:,}  {rate:,.0f} states/s  "
        f"depth {p.depth}  frontier {p.frontier:,}  {p.elapsed:,.1f}s"
    )


@contextmanager
def progress_line(enabled: bool) -> Iterator[object]:
    """Yield a progress callback (or None when disabled or stderr is not a terminal)."""
    console = Console(file=sys.stderr)
    if not enabled or not console.is_terminal:
        yield None
        return
    with Live(Text(""), console=console, transient=True, refresh_per_second=4) as live:
        yield lambda p: live.update(_line(p))
