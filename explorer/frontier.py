"""A breadth-first level of one shard: packed blocks of (fingerprint, state), spilled to disk.

A level is appended to block by block and read back in the same order (partial-order
reduction appends to the level being read, so reading continues until no block is left).
Every block of ``BLOCK`` states is *packed* as soon as it is complete: its states'
``marshal`` encoding (version 4: sub-tuples shared between sibling states are written
once), compressed with zstd at level 1, 11-27 bytes per FLE state. Packed blocks stay in
memory up to the shard's budget (``--level-memory`` states per level); beyond it they go
to the shard's spill file. Disk, not RAM, limits a run. (zstd rather than zlib: on
3-server blocks it packs 3.4 times faster and smaller, 10.8 against 13.4 bytes per state.)

Packing every block, not only those beyond the budget, is also the faster way: a state
kept as the model's tuples from its generation until its expansion a level later lies
scattered among the freed duplicates generated with it, while the states of an unpacked
block are allocated together, their shared sub-tuples once. The default run (``--servers
3 --depth 20``, one worker) took 18% less CPU with every block packed than with 25,000
states per level kept as tuples (docs/performance.md).

The states in a block need no canonical encoding (fingerprints are computed from
``model.encode`` before a state enters a level), only a fast exact round trip; a model
whose states marshal cannot round-trip names its own ``pack``/``unpack``.
"""

from __future__ import annotations

import errno
import marshal
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zstandard

BLOCK = 1024
"""States per block: the unit of reading, packing, spilling and of one expansion step."""

MEMORY_STATES = 1_000_000
"""States of a level a shard keeps in memory, packed (about 11-27 MB), before spilling."""


class SpillFull(OSError):
    """The spill directory's disk is full: the run must stop (no verdict for the rest)."""


_compressor = zstandard.ZstdCompressor(level=1)
_decompressor = zstandard.ZstdDecompressor()


def compress(data: bytes) -> bytes:
    """zstd level 1, returned in a bytes object of its own size. zstandard allocates its
    output for the worst case (about the input's size) and shrinks it in place; kept, such
    blocks left the rest of each allocation as a hole in the heap that later blocks did not
    fit: 42.7 MB of packed 5-server blocks held 270 MB resident, copied 18 MB."""
    return bytes(memoryview(_compressor.compress(data)))


def decompress(data: bytes) -> bytes:
    return _decompressor.decompress(data)


def marshal_pack(states: list) -> bytes:
    return marshal.dumps(states, 4)


def codec(model: Any) -> tuple[Callable[[list], bytes], Callable[[bytes], list]]:
    """``(pack, unpack)`` for a list of states: the model's own, else marshal."""
    pack = getattr(model, "pack_states", None)
    unpack = getattr(model, "unpack_states", None)
    if pack is not None and unpack is not None:
        return pack, unpack
    return marshal_pack, marshal.loads


@dataclass
class Block:
    fps: np.ndarray
    data: bytes | None  # packed, in memory; None when in the spill file or already read
    offset: int = 0  # in the spill file
    length: int = 0

    def __len__(self) -> int:
        return len(self.fps)


class Level:
    """One level's blocks (see the module docstring)."""

    def __init__(self, spill_path: Path | None, pack: Callable, unpack: Callable,
                 budget: int) -> None:
        self.path = spill_path
        self.pack, self.unpack = pack, unpack
        self.budget = budget  # states kept in memory (packed) at most
        self.blocks: list[Block] = []
        self.count = 0
        self.in_memory = 0
        self.read_at = 0
        self._file = None
        self.packed_bytes = 0  # every block packed so far (the bytes per state of a level)
        self.packed_states = 0
        self.spilled_bytes = 0  # the part written to the spill file
        self.spilled_states = 0
        self._fill: list[tuple[np.ndarray, list]] = []  # a partial block, waiting
        self._filled = 0

    def append(self, fps: np.ndarray, states: list) -> None:
        """Add states. They are cut into blocks of ``BLOCK`` states; a small append waits
        in a partial block, so that blocks stay large (a packed block is small only with
        many siblings in it: marshal writes their shared sub-tuples once)."""
        if not len(fps):
            return
        self.count += len(fps)
        self._fill.append((fps, states))
        self._filled += len(fps)
        if self._filled >= BLOCK:
            self._flush(whole=True)

    def append_packed(self, fps: np.ndarray, data: bytes) -> None:
        """Add a block packed elsewhere (by another shard's ``take_last``)."""
        self.count += len(fps)
        self._store(Block(fps, data))

    def _take_fill(self) -> tuple[np.ndarray, list]:
        """The partial block's states, removed from the level's waiting part."""
        if len(self._fill) == 1:
            fps, states = self._fill[0]
        else:
            fps = np.concatenate([f for f, _ in self._fill])
            states = [s for _, part in self._fill for s in part]
        self._fill, self._filled = [], 0
        return fps, states

    def _flush(self, whole: bool = False) -> None:
        """Cut the waiting states into packed blocks (``whole``: full blocks only)."""
        if not self._fill:
            return
        fps, states = self._take_fill()
        cut = len(fps) // BLOCK * BLOCK if whole else len(fps)
        for start in range(0, cut, BLOCK):
            self._store(Block(fps[start:start + BLOCK],
                              compress(self.pack(states[start:start + BLOCK]))))
        if cut < len(fps):
            self._fill, self._filled = [(fps[cut:], states[cut:])], len(fps) - cut

    def _store(self, block: Block) -> None:
        self.packed_bytes += len(block.data)
        self.packed_states += len(block)
        if self.path is not None and self.in_memory + len(block) > self.budget:
            self._spill(block)
        else:
            self.in_memory += len(block)
        self.blocks.append(block)

    def _spill(self, block: Block) -> None:
        data = block.data
        if self._file is None:
            self._file = open(self.path, "w+b")  # noqa: SIM115 (closed by close())
        self._file.seek(0, os.SEEK_END)
        block.offset = self._file.tell()
        try:
            self._file.write(data)
            self._file.flush()
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise SpillFull(errno.ENOSPC, f"no space left for the spill file {self.path}"
                                ) from None
            raise
        block.length = len(data)
        block.data = None
        self.spilled_bytes += len(data)
        self.spilled_states += len(block)

    def _read(self, block: Block) -> bytes:
        """A block's packed bytes, from memory or from the spill file."""
        if block.data is not None:
            return block.data
        self._file.seek(block.offset)
        return self._file.read(block.length)

    def _packed(self, block: Block) -> bytes:
        """``_read`` for a block leaving the level."""
        if block.data is not None:
            self.in_memory -= len(block)
        return self._read(block)

    def next_block(self) -> tuple[np.ndarray, list] | None:
        """The next unread block, or None when the level is read to its end (the partial
        block last, as it is: it is read now, so packing it would only cost)."""
        if self.read_at >= len(self.blocks):
            return self._take_fill() if self._fill else None
        block = self.blocks[self.read_at]
        self.blocks[self.read_at] = Block(block.fps, None)  # drop it: read once
        self.read_at += 1
        return block.fps, self.unpack(decompress(self._packed(block)))

    def take_last(self) -> tuple[np.ndarray, bytes]:
        """Remove the last unread block and return it packed (for load balancing: it
        travels to another shard's ``append_packed`` as it is)."""
        self._flush()
        block = self.blocks.pop()
        self.count -= len(block)
        return block.fps, self._packed(block)

    @property
    def unread(self) -> int:
        return sum(len(b) for b in self.blocks[self.read_at:]) + self._filled

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.path is not None and self.path.exists():
            self.path.unlink()

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: Path) -> None:
        """The unread blocks as one file: fingerprints, then packed state blocks."""
        self._flush()
        parts = [(block.fps.tobytes(), self._read(block))
                 for block in self.blocks[self.read_at:]]
        with open(path, "wb") as out:
            out.write(marshal.dumps(parts))

    def restore(self, path: Path, keep: Callable[[np.ndarray], np.ndarray] | None) -> None:
        """Append the blocks of a saved level (``keep``: the fingerprints this shard owns)."""
        for fps_bytes, data in marshal.loads(path.read_bytes()):
            fps = np.frombuffer(fps_bytes, dtype=np.uint64).copy()
            if keep is None:
                self.append_packed(fps, data)
                continue
            states = self.unpack(decompress(data))
            mask = keep(fps)
            self.append(fps[mask], [s for s, k in zip(states, mask.tolist(), strict=True) if k])


def allowed_cpus() -> list[int] | None:
    """The CPUs this process may run on (``taskset``, cgroups), or None where the system
    does not say."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


def resident_bytes() -> int:
    """Memory this process holds now: its proportional set size (Linux
    ``/proc/self/smaps_rollup``), where a page shared with forked workers counts once
    across them, so that the shards' figures add up to what the run really holds; the
    resident set (``/proc/self/statm``) where PSS is not available; 0 elsewhere."""
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0
