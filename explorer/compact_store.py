"""The breadth-first visited set in 13-14 bytes per state: sorted fingerprint runs + links.

Breadth-first search without a recorded graph only asks "is this fingerprint new?" and
"who is the parent of state i?" (for traces); it never needs the index of a known state.
So the fingerprints are kept as a few *sorted uint64 runs* (a log-structured merge set:
exactly 8 bytes per state, no hash-table slack), and the parent link and label id as dense
arrays in insertion order (uint32 + uint8, the label widened to uint16 on demand), 13 bytes
per state plus growth slack. A trace is rebuilt from the links by re-executing labels and
checked against the set (each rebuilt state's fingerprint must be in it).

Batches are looked up with ``np.searchsorted`` in every run (O(log n) each, in C) and a new
batch becomes a run; runs of similar size are merged (a stable sort of two sorted runs is
a linear merge), so there are O(log n) runs and every fingerprint is merged O(log n) times.
Merging briefly holds the two merged runs and their union (at most 2x the largest run).
Depth-first search and graph recording need the index of known states and use
``StateStore``.
"""

from __future__ import annotations

import numpy as np

from zkcheck.explorer.fpset import FingerprintSet
from zkcheck.explorer.store import NO_PARENT

_GROWTH = 1.25


class CompactStore:
    """Fingerprint set + parent links for breadth-first search (see the module docstring)."""

    fps = None  # no dense fingerprint array: traces are verified against the set
    depths = None

    def __init__(self, capacity: int = 1 << 12):
        self.count = 0
        self._set = FingerprintSet()
        self.parents = np.zeros(capacity, dtype=np.uint32)
        self.labels = np.zeros(capacity, dtype=np.uint8)

    # ------------------------------------------------------------------ memory
    def memory_bytes(self) -> int:
        """Bytes held: fingerprint runs plus the link arrays at their capacity."""
        return self._set.nbytes + self.parents.nbytes + self.labels.nbytes

    def bytes_per_state(self) -> float:
        return self.memory_bytes() / max(self.count, 1)

    # ------------------------------------------------------------------ look-ups
    def contains_batch(self, fps: np.ndarray) -> np.ndarray:
        """Whether each fingerprint of ``fps`` (uint64) is in the set."""
        return self._set.contains(fps)

    def contains(self, fp: int) -> bool:
        return bool(self.contains_batch(np.array([fp], dtype=np.uint64))[0])

    def find(self, fp: int) -> int:
        """0 if present (the index is not kept), -1 if absent: enough for "is it new?"."""
        return 0 if self.contains(fp) else -1

    # ------------------------------------------------------------------ inserts
    def add(self, fp: int, parent: int, label: int, depth: int = 0) -> int:
        """Append a state known to be absent; returns its index."""
        self._links(np.array([parent], dtype=np.uint32), np.array([label], dtype=np.uint32))
        self._set.add_sorted(np.array([fp], dtype=np.uint64))
        return self.count - 1

    def add_batch(
        self, fps: np.ndarray, parents: np.ndarray, labels: np.ndarray
    ) -> tuple[None, np.ndarray]:
        """Insert a batch, keeping the first occurrence of each new fingerprint; returns
        ``(None, new_positions)`` (ascending batch positions that were new; new states get
        consecutive indices in that order)."""
        if len(fps) == 0:
            return None, np.zeros(0, dtype=np.int64)
        unique_fps, first = np.unique(fps, return_index=True)
        fresh = ~self.contains_batch(unique_fps)
        new_positions = np.sort(first[fresh])
        if len(new_positions):
            self._links(parents[new_positions], labels[new_positions])
            self._set.add_sorted(unique_fps[fresh])
        return None, new_positions

    def _links(self, parents: np.ndarray, labels: np.ndarray) -> None:
        need = self.count + len(parents)
        if need > len(self.parents):
            cap = max(need, int(len(self.parents) * _GROWTH) + 1)
            self.parents = _grow(self.parents, cap)
            self.labels = _grow(self.labels, cap)
        top = int(labels.max())
        if top > np.iinfo(self.labels.dtype).max:
            self.labels = self.labels.astype(np.uint16 if top < 1 << 16 else np.uint32)
        self.parents[self.count : need] = parents
        self.labels[self.count : need] = labels
        self.count = need


def _grow(array: np.ndarray, capacity: int) -> np.ndarray:
    bigger = np.zeros(capacity, dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


__all__ = ["CompactStore", "NO_PARENT"]
