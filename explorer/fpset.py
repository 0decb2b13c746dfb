"""A set of 64-bit fingerprints in 8 bytes each: sorted runs, merged as they grow.

Breadth-first search asks a set of fingerprints only two things, in batches: "which of
these are in?" and "add these". A Python ``set`` of ints costs about 70 bytes per entry;
here the fingerprints are a few *sorted uint64 runs* (a log-structured merge set): a batch
is looked up with ``np.searchsorted`` in every run, a new batch becomes a run, and runs of
similar size are merged (a stable sort of two sorted runs is a linear merge), so there are
O(log n) runs and every fingerprint is merged O(log n) times. A merge briefly holds the
two runs and their union.
"""

from __future__ import annotations

import numpy as np


class FingerprintSet:
    """See the module docstring."""

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(r) for r in self.runs)

    @property
    def nbytes(self) -> int:
        return sum(r.nbytes for r in self.runs)

    def contains(self, fps: np.ndarray) -> np.ndarray:
        """Whether each fingerprint of ``fps`` (uint64) is in the set."""
        found = np.zeros(len(fps), dtype=bool)
        for run in self.runs:
            pos = np.searchsorted(run, fps)
            pos[pos == len(run)] = 0
            found |= run[pos] == fps
        return found

    def add_sorted(self, fps: np.ndarray) -> None:
        """Add fingerprints that are sorted, distinct and not in the set yet."""
        if not len(fps):
            return
        runs = self.runs
        runs.append(fps)
        while len(runs) > 1 and len(runs[-2]) <= 2 * len(runs[-1]):
            top = runs.pop()
            below = runs.pop()
            merged = np.concatenate((below, top))
            merged.sort(kind="stable")  # timsort: a linear merge of two sorted runs
            runs.append(merged)
