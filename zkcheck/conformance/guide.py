"""Order guidance for the trace-validation search from the logs' own timestamps.

Only the order inside one server's thread is trusted (clocks are skewed, stamps are
truncated to the millisecond, a descheduled thread logs late), so timestamps never prune a
path. They only rank the search's nodes: a node that has matched a logged event stamped
well after another event still pending (on another stream) is *late*; nodes with fewer
such events are expanded first. A real run happened in (nearly) stamp order, so the search
follows the logged receipts in their order before it tries interleavings the clocks
contradict, and still reaches every node when those fail (the ranking is total, no node is
dropped).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence


class TimeGuide:
    """``late(pos)``: how many matched events are stamped more than ``window`` seconds after
    the earliest pending one. Streams whose stamps are unknown or do not track their step
    (a server's own copies are logged when its receiver thread dequeues them, possibly long
    after the broadcast) take no part."""

    def __init__(self, columns: Sequence[tuple[int, Sequence[float]]], window: float) -> None:
        self.window = window
        self.columns: list[tuple[int, list[float]]] = []
        for slot, stamps in columns:
            ordered: list[float] = []
            for t in stamps:  # one thread's stamps only move forward
                ordered.append(max(t, ordered[-1]) if ordered else t)
            if ordered:
                self.columns.append((slot, ordered))
        self.by_slot = dict(self.columns)

    def _front(self, pos: Sequence[int]) -> float:
        """The stamp of the earliest pending event."""
        return min((t[pos[n]] for n, t in self.columns if pos[n] < len(t)), default=math.inf)

    def due(self, slot: int, pos: Sequence[int]) -> bool:
        """Is the next event of stream ``slot`` among the earliest pending ones (within
        ``window``)? (True for a stream without stamps.)"""
        stamps = self.by_slot.get(slot)
        if stamps is None or pos[slot] >= len(stamps):
            return True
        return stamps[pos[slot]] <= self._front(pos) + self.window

    def late(self, pos: Sequence[int]) -> int:
        front = self._front(pos)
        if front == math.inf:
            return 0
        limit = front + self.window
        return sum(pos[n] - bisect.bisect_right(t, limit, 0, pos[n]) for n, t in self.columns
                   if pos[n] and t[pos[n] - 1] > limit)
