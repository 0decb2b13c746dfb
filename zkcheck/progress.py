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
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Projection:
    """What the rest of a stopped breadth-first run would cost if its level growth held.

    ``memory_bytes`` and ``disk_bytes`` (when the run measured them) are what the whole
    run would need: the resident memory measured so far plus the visited set of the states
    still to come (the in-memory part of a level is capped, the rest is spilled), and the
    spill disk for the widest two consecutive levels to come.
    """

    growth: float
    states: float | None  # more states to the depth bound (None: no bound and growth >= 1)
    seconds: float | None
    store_bytes: float | None
    memory_bytes: float | None = None
    disk_bytes: float | None = None

    def describe(self, max_depth: int | None) -> str:
        head = f"projection: levels grow x{self.growth:.2f} per step"
        if self.states is None:
            return head + "; without a depth bound, the end cannot be estimated while they grow"
        goal = f"depth {max_depth}" if max_depth is not None else "the end"
        text = (f"{head}; reaching {goal} would take about {self.states:,.3g} more states, "
                f"{_duration(self.seconds)} at this rate and {_size(self.store_bytes)} more "
                f"store")
        if self.memory_bytes is not None:
            text += (f"; at the measured bytes per state the whole run would need about "
                     f"{_size(self.memory_bytes)} of memory and {_size(self.disk_bytes)} of "
                     f"spill disk")
        return text


def project(levels: list[int], max_depth: int | None, rate: float,
            bytes_per_state: float, resident_per_state: float | None = None,
            spill_per_state: float | None = None) -> Projection | None:
    """The cost of the rest of a run stopped by a time or state bound (None: too few levels
    to tell). ``resident_per_state``/``spill_per_state``: measured peak memory and spill
    per state, for the memory and disk the whole run would need."""
    done = [n for n in levels if n]
    if len(done) < 2:
        return None
    left = remaining_states(done, len(done), max_depth)
    growth = done[-1] / done[-2]
    if left is None:
        return Projection(growth, None, None, None)
    # the frontier in memory is capped (--level-memory), so memory grows with the visited
    # set only; the disk holds the two widest consecutive levels still to come
    memory = (sum(levels) * resident_per_state + left * bytes_per_state
              if resident_per_state is not None else None)
    disk = None
    if spill_per_state is not None and growth >= 1 and max_depth is not None:
        # the deepest level and the one before it (read while the deepest is written)
        deepest = done[-1] * growth ** max(max_depth - len(done) + 1, 1)
        disk = deepest * (1 + 1 / growth) * spill_per_state
    elif spill_per_state is not None and growth < 1:  # the next level and its successor
        disk = max(done[-1] * growth, 1.0) * (1 + growth) * spill_per_state
    return Projection(growth, left, left / rate if rate > 0 else None,
                      left * bytes_per_state, memory, disk)


def _size(n: float | None) -> str:
    if n is None:
        return "an unknown amount of"
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.1f} MiB"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "an unknown time"
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:,.0f} s"


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
    shards = ""
    if p.workers > 1 and p.shard_states:
        low, high = min(p.shard_states), max(p.shard_states)
        shards = (f"  workers {p.workers} ({rate / p.workers:,.0f}/s each, "
                  f"balance x{high / low:.2f})" if low else f"  workers {p.workers}")
    memory = ""
    if p.rss_bytes:
        memory = f"  memory {_size(p.rss_bytes)}  spill {_size(p.spill_bytes)}"
    return Text(
        f"states {p.distinct:,}  generated {p.generated:,}  {rate:,.0f} states/s  "
        f"depth {p.depth}  frontier {p.frontier:,}  {p.elapsed:,.1f}s{growth}{eta_text}"
        f"{shards}{memory}"
    )


LOG_EVERY = 60.0
"""Seconds between two progress lines when stderr is a file or a pipe (a batch run)."""


@contextmanager
def progress_line(enabled: bool, max_depth: int | None = None) -> Iterator[object]:
    """Yield a progress callback (or None when disabled). On a terminal the line is
    redrawn in place; in a log (stderr not a terminal) a plain line is written once per
    ``LOG_EVERY`` seconds, as TLC does, so a long batch run shows it is alive."""
    console = Console(file=sys.stderr)
    if not enabled:
        yield None
        return
    if not console.is_terminal:
        last = [0.0]

        def log(p: Progress) -> None:
            if p.elapsed - last[0] >= LOG_EVERY:
                last[0] = p.elapsed
                print(f"progress: {_line(p, max_depth).plain}", file=sys.stderr, flush=True)

        yield log
        return
    with Live(Text(""), console=console, transient=True, refresh_per_second=4) as live:
        yield lambda p: live.update(_line(p, max_depth))
