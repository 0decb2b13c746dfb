"""The progress line on stderr (rich): states, states/s, depth, frontier, elapsed time, ETA.

The ETA comes from breadth-first level growth: the last two complete levels give a growth
factor g; with a depth bound D the remaining levels are predicted geometrically
(``L * g + L * g**2 + ...`` up to D), without one the tail converges only if g < 1 (else
the line says so). The estimate is as good as the assumption that growth stays steady.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.text import Text

from zkcheck.explorer import Progress


def remaining_states(levels: list[int], depth: int, max_depth: int | None) -> float | None:
    """Predicted states still to be found after the current level (None: unbounded)."""
    done = [n for n in levels[:depth] if n]
    if len(done) < 2:
        return None
    growth = done[-1] / done[-2]
    last = done[-1]
    if max_depth is None:
        return None if growth >= 1 else last * growth / (1 - growth)
    total, size = 0.0, float(last)
    for _ in range(max(max_depth - len(done) + 1, 0)):
        size *= growth
        total += size
    return total


def eta_seconds(p: Progress, max_depth: int | None) -> float | None:
    """Seconds left at the current rate, or None when it cannot be estimated."""
    rate = p.distinct / p.elapsed if p.elapsed > 0 else 0.0
    left = remaining_states(p.levels, p.depth, max_depth)
    if left is None or rate <= 0:
        return None
    return left / rate


def _line(p: Progress, max_depth: int | None = None) -> Text:
    rate = p.distinct / p.elapsed if p.elapsed > 0 else 0.0
    eta = eta_seconds(p, max_depth)
    growth = ""
    if len(p.levels) >= 2 and p.levels[-2]:
        growth = f"  growth x{p.levels[-1] / p.levels[-2]:.2f}/level"
    eta_text = f"  ETA {eta:,.0f}s" if eta is not None else "  ETA ?"
    return Text(
        f"states {p.distinct:,}  generated {p.generated:,}  {rate:,.0f} states/s  "
        f"depth {p.depth}  frontier {p.frontier:,}  {p.elapsed:,.1f}s{growth}{eta_text}"
    )


@contextmanager
def progress_line(enabled: bool, max_depth: int | None = None) -> Iterator[object]:
    """Yield a progress callback (or None when disabled or stderr is not a terminal)."""
    console = Console(file=sys.stderr)
    if not enabled or not console.is_terminal:
        yield None
        return
    with Live(Text(""), console=console, transient=True, refresh_per_second=4) as live:
        yield lambda p: live.update(_line(p, max_depth))
