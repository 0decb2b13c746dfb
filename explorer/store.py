"""The visited-state store: fingerprint -> state index, with parent link and action label.

Compact by construction (the frontier of full states is kept by the search, not here):

* dense per-state arrays in insertion order: fingerprint (uint64), parent index (uint32,
  ``NO_PARENT`` for initial states), action label id (uint16, widened on demand), and
  optionally depth (uint32, only depth-first search needs it);
* an open-addressing hash table (uint32 slots holding ``index + 1``, 0 = empty, linear
  probing, load factor <= 0.75) keyed by the fingerprint's low bits.

That is 14 bytes per state of dense data plus 5.3-10.7 bytes of table, under 32 in all.
Batches are looked up and inserted with vectorised numpy operations (breadth-first search
works level by level); single states go through the scalar path (depth-first search).
"""

from __future__ import annotations

import numpy as np

NO_PARENT = 0xFFFFFFFF
_MAX_LOAD = 0.75
_GROWTH = 1.5


class StateStore:
    """Fingerprints of visited states with a parent pointer and action label per state."""

    def __init__(self, with_depth: bool = False, capacity: int = 1 << 10):
        self.count = 0
        self._cap = capacity
        self.fps = np.zeros(capacity, dtype=np.uint64)
        self.parents = np.zeros(capacity, dtype=np.uint32)
        self.labels = np.zeros(capacity, dtype=np.uint16)
        self.depths = np.zeros(capacity, dtype=np.uint32) if with_depth else None
        self._table = np.zeros(2 * capacity, dtype=np.uint32)
        self._mask = len(self._table) - 1

    # ------------------------------------------------------------------ memory
    def memory_bytes(self) -> int:
        """Bytes allocated by the store (dense arrays at their capacity plus the table)."""
        arrays = [self.fps, self.parents, self.labels, self._table]
        if self.depths is not None:
            arrays.append(self.depths)
        return sum(a.nbytes for a in arrays)

    def bytes_per_state(self) -> float:
        return self.memory_bytes() / max(self.count, 1)

    # ------------------------------------------------------------------ growth
    def _reserve(self, extra: int) -> None:
        need = self.count + extra
        if need > self._cap:
            cap = max(need, int(self._cap * _GROWTH) + 1)
            self.fps = _grow(self.fps, cap)
            self.parents = _grow(self.parents, cap)
            self.labels = _grow(self.labels, cap)
            if self.depths is not None:
                self.depths = _grow(self.depths, cap)
            self._cap = cap
        if need > _MAX_LOAD * len(self._table):
            size = len(self._table)
            while need > _MAX_LOAD * size:
                size *= 2
            self._table = np.zeros(size, dtype=np.uint32)
            self._mask = size - 1
            self._insert_slots(np.arange(self.count, dtype=np.int64))

    def _widen_labels(self, label: int) -> None:
        if label > np.iinfo(self.labels.dtype).max:
            self.labels = self.labels.astype(np.uint32)

    # ------------------------------------------------------------------ scalar path
    def find(self, fp: int) -> int:
        """Index of the state with fingerprint ``fp``, or -1."""
        table, mask, fps = self._table, self._mask, self.fps
        slot = fp & mask
        while True:
            occupant = int(table[slot])
            if occupant == 0:
                return -1
            if int(fps[occupant - 1]) == fp:
                return occupant - 1
            slot = (slot + 1) & mask

    def add(self, fp: int, parent: int, label: int, depth: int = 0) -> int:
        """Append a state known to be absent; returns its index."""
        self._reserve(1)
        self._widen_labels(label)
        index = self.count
        self.fps[index] = fp
        self.parents[index] = parent
        self.labels[index] = label
        if self.depths is not None:
            self.depths[index] = depth
        self.count += 1
        table, mask = self._table, self._mask
        slot = fp & mask
        while table[slot]:
            slot = (slot + 1) & mask
        table[slot] = index + 1
        return index

    def relink(self, index: int, parent: int, label: int, depth: int) -> None:
        """Record a shorter path to a known state (depth-first search with a depth bound)."""
        self._widen_labels(label)
        self.parents[index] = parent
        self.labels[index] = label
        if self.depths is not None:
            self.depths[index] = depth

    # ------------------------------------------------------------------ batch path
    def find_batch(self, fps: np.ndarray) -> np.ndarray:
        """Index of each fingerprint in ``fps`` (uint64 array), -1 where absent."""
        result = np.full(len(fps), -1, dtype=np.int64)
        pending = np.arange(len(fps))
        slots = (fps & np.uint64(self._mask)).astype(np.int64)
        while pending.size:
            occupant = self._table[slots].astype(np.int64)
            empty = occupant == 0
            hit = ~empty
            hit[hit] = self.fps[occupant[hit] - 1] == fps[pending[hit]]
            result[pending[hit]] = occupant[hit] - 1
            more = ~(empty | hit)
            pending = pending[more]
            slots = (slots[more] + 1) & self._mask
        return result

    def add_batch(
        self, fps: np.ndarray, parents: np.ndarray, labels: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Insert a batch, keeping the first occurrence of each new fingerprint.

        Returns ``(index_of_each, new_positions)``: the store index of every batch entry,
        and the batch positions (ascending) whose entry was new and is now stored. New
        states get consecutive indices in batch order, so the result is deterministic.
        """
        if len(fps) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        unique_fps, first, inverse = np.unique(fps, return_index=True, return_inverse=True)
        known = self.find_batch(unique_fps)
        fresh = np.flatnonzero(known < 0)
        new_positions = np.sort(first[fresh])
        n_new = len(new_positions)
        self._reserve(n_new)
        start = self.count
        new_index = np.arange(start, start + n_new, dtype=np.int64)
        stop = start + n_new
        self.fps[start:stop] = fps[new_positions]
        self.parents[start:stop] = parents[new_positions]
        if n_new:
            self._widen_labels(int(labels[new_positions].max()))
        self.labels[start:stop] = labels[new_positions]
        self.count = stop
        self._insert_slots(new_index)
        # map each unique fingerprint to its index: known ones from the table, new ones
        # from their insertion order
        order = np.argsort(first[fresh], kind="stable")
        known[fresh[order]] = new_index
        return known[inverse.ravel()], new_positions

    def _insert_slots(self, indices: np.ndarray) -> None:
        """Put the given (absent, distinct) states into the hash table."""
        table, mask = self._table, self._mask
        pending = indices
        slots = (self.fps[pending] & np.uint64(mask)).astype(np.int64)
        while pending.size:
            free = table[slots] == 0
            free_slots = slots[free]
            # several entries may race for one free slot: the first in order wins
            _, winners = np.unique(free_slots, return_index=True)
            won = np.flatnonzero(free)[winners]
            table[slots[won]] = (pending[won] + 1).astype(np.uint32)
            lost = np.ones(len(pending), dtype=bool)
            lost[won] = False
            pending = pending[lost]
            slots = (slots[lost] + 1) & mask


def _grow(array: np.ndarray, capacity: int) -> np.ndarray:
    bigger = np.zeros(capacity, dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger
