"""One shard of a breadth-first search partitioned by fingerprint.

A shard *owns* the states whose fingerprint is ``fp % shards == id``: their visited set
with links (``LinkStore``) and the per-level counts. It *expands* the states it keeps in
its current level and sends, for each successor owned elsewhere, only the fingerprint and
the candidate link (parent fingerprint, action position) to the owner. The owner answers
which are new; the asking shard then checks those states and keeps them in its next
level. So states cross shards only in bulk: unexpanded ones at a level's start to even
out the load, later to a shard that has run out of work (``export``), and in
checkpoints; the cost of partitioning is a few bytes per successor, not an encode and
decode of every state. Which shard expands a state changes nothing that is
found: counts, links and verdicts are settled by the owners, in fingerprint order.

Levels are ``Level`` objects, spilled to disk beyond a memory budget. A batch has up to
three parts: ``next`` (full expansion: one step deeper), ``same`` (partial-order
reduction's 0-cost steps: the level being expanded) and ``probe`` (fingerprints only: at
the depth bound, "does anything lie beyond?"). The shard knows nothing of processes or
machines (a backend decides where shards live) and nothing of the protocol.
"""

from __future__ import annotations

import marshal
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from zkcheck.explorer.fingerprint import fingerprinters
from zkcheck.explorer.fpset import FingerprintSet
from zkcheck.explorer.frontier import (
    MEMORY_STATES,
    Level,
    allowed_cpus,
    codec,
    resident_bytes,
)
from zkcheck.explorer.linkstore import NO_PARENT_FP, LinkStore, smallest_links
from zkcheck.explorer.model import Model, Property, PropertyKind, select_properties


@dataclass(frozen=True)
class ShardPlan:
    """What every shard of one search is told."""

    shards: int
    properties: tuple[str, ...]  # invariants and witnesses to check, by name
    symmetry: bool = False
    por: bool = False
    check_independence: int = 0
    spill_dir: str | None = None
    memory_states: int = MEMORY_STATES  # states of a level kept in memory (packed)


@dataclass
class ExpandReport:
    """What one ``expand`` call did; ``batches[d]`` goes to shard ``d`` (None: nothing)."""

    batches: list[bytes | None]
    expanded: int
    generated: int
    more: bool
    stored: int
    local_unseen: int = 0  # probe answers for successors this shard owns itself
    left: int = 0  # states of the current level this shard has still to expand


@dataclass
class LevelReport:
    """A shard's part of a finished level (the coordinator sums them)."""

    shard: int
    stored: int
    level_counts: dict[int, int]
    found: dict[str, tuple[int, int]]  # property -> (level, fingerprint), smallest
    deadlocks: int
    deadlock: tuple[int, int] | None
    generated: int
    expanded: int
    memory_bytes: int
    spill_bytes: int
    frontier: int
    extra: dict[str, Any] = field(default_factory=dict)


class _ReducerHost:
    """What ``zkcheck.explorer.por.Reducer`` asks of a search, for one shard."""

    search = "bfs"
    record_graph = False
    check_deadlock = False

    def __init__(self, shard: Shard) -> None:
        self.model = shard.model
        self.properties = shard.properties
        self._fp_many = shard.fp_many

    def known(self, fps: Sequence[int]) -> np.ndarray:  # pragma: no cover - refused earlier
        raise RuntimeError("partitioned POR needs the model's por_measure")


class Shard:
    """See the module docstring."""

    def __init__(self, model: Model, shard_id: int, plan: ShardPlan) -> None:
        self.model = model
        self.id = shard_id
        self.n = plan.shards
        self.plan = plan
        self.properties: list[Property] = select_properties(model.properties(),
                                                            list(plan.properties))
        self.fp_one, self.fp_many = fingerprinters(model, plan.symmetry)
        self.constraint = getattr(model, "constraint", None)
        self.fired: Counter[str] = Counter()  # transitions generated per label
        self.pack, self.unpack = codec(model)
        self.store = LinkStore()
        self.depth = 0
        self.spill = Path(plan.spill_dir) if plan.spill_dir else None
        self.current = self._level(0)
        self.next = self._level(1)
        self.pending_inv = [p for p in self.properties if p.kind is PropertyKind.INVARIANT]
        self.pending_wit = [p for p in self.properties if p.kind is PropertyKind.WITNESS]
        self.found: dict[str, tuple[int, int]] = {}
        self.level_counts: dict[int, int] = {}
        self.deadlocks = 0
        self.deadlock: tuple[int, int] | None = None
        self.generated = 0
        self.expanded = 0
        self.probe_unseen = np.zeros(0, dtype=np.uint64)
        self.packed = (0, 0)  # states and bytes of closed levels' packed blocks
        self.asked = 0  # batches sent to owners
        self.waiting: dict[int, tuple] = {}  # their states, until answered
        # the new states of one expansion call, put into the next level in the order they
        # were generated once every owner has answered (siblings stay together: a spilled
        # block shares their common parts): chunk -> [answers outstanding, pieces]
        self.chunks: dict[int, list] = {}
        self.chunk_seq = 0
        self.moved_now: list[np.ndarray] = []  # states this owner moved a level up (POR)
        self.skip = np.zeros(0, dtype=np.uint64)  # moved states: skip their old copies
        # POR: states this shard expanded this level (8 bytes each, not a Python set's 70)
        self.expanded_now = FingerprintSet()
        self.reducer = None
        if plan.por:
            from zkcheck.explorer.por import make_reducer

            self.reducer, _ = make_reducer(_ReducerHost(self), plan.check_independence)

    def _level(self, depth: int) -> Level:
        path = None
        if self.spill is not None:
            path = self.spill / f"shard{self.id}-level{depth}.bin"
        return Level(path, self.pack, self.unpack, self.plan.memory_states)

    # ------------------------------------------------------------------ seeding
    def seed(self, roots: list[tuple[int, int, Any]]) -> int:
        """Store the initial states this shard owns: ``(fingerprint, number, state)``."""
        mine = [r for r in roots if r[0] % self.n == self.id]
        if mine:
            fps = np.array([r[0] for r in mine], dtype=np.uint64)
            parents = np.full(len(mine), NO_PARENT_FP, dtype=np.uint64)
            pos = np.array([r[1] for r in mine], dtype=np.int64)
            self._take_local({"next": (fps, parents, pos, [r[2] for r in mine], None)},
                             at=0)
        return self.store.count

    # ------------------------------------------------------------------ expansion
    def expand(self, budget: int, at_bound: bool = False) -> ExpandReport:
        """Expand up to ``budget`` states of the current level (at the depth bound: only
        probe their successors, and follow partial-order reduction's 0-cost steps)."""
        n, actions = self.n, self.model.actions
        out = _Outbox(n)
        done = generated = local_unseen = 0
        succs: list = []
        parents: list[int] | np.ndarray = []  # per successor
        poss: list[int] | np.ndarray = []
        expanded: list[int] = []  # without a constraint: each parent and its successor count
        sizes: list[int] = []
        labels: list[str] = []  # counted once per call, not once per state
        constraint = self.constraint
        while done < budget:
            block = self.current.next_block()
            if block is None:
                break
            fps, states = block
            fps, states = self._not_moved(fps, states)
            work = list(zip(fps.tolist(), states, strict=True))
            if self.reducer is not None:
                work, eager = self._follow_reduced(work, out)
                generated += eager
            done += len(work)
            for parent, state in work:
                acts = actions(state)
                if type(acts) is not list:
                    acts = list(acts)
                k = len(acts)
                if not k:
                    self._note_deadlock(parent)
                    continue
                if constraint is not None:
                    if not at_bound:
                        labels.extend([a[0] for a in acts])
                    inside = [i for i, a in enumerate(acts) if constraint(a[1])]
                    generated += 0 if at_bound else k - len(inside)
                    succs.extend([acts[i][1] for i in inside])
                    parents.extend(repeat(parent, len(inside)))
                    poss.extend(inside)
                    continue
                columns = zip(*acts, strict=True)  # labels, successors: one C call, not two
                if at_bound:
                    next(columns)
                else:
                    labels.extend(next(columns))
                succs.extend(next(columns))
                expanded.append(parent)
                sizes.append(k)
        if sizes:  # each successor's parent and position, from the group sizes
            counts = np.array(sizes, dtype=np.int64)
            parents = np.repeat(np.array(expanded, dtype=np.uint64), counts)
            poss = np.arange(len(succs), dtype=np.int64) - np.repeat(
                np.cumsum(counts) - counts, counts)
        self.fired.update(labels)
        if succs:
            sfps = self.fp_many(succs)
            if at_bound:  # probed successors are not generated, as in Search
                out.add("probe", sfps, None, None, None)
            else:
                generated += len(succs)
                out.add("next", sfps, parents, poss, succs)
        self.generated += generated
        self.expanded += done
        batches: list[bytes | None] = [None] * n
        parts = out.parts()
        self.chunk_seq += 1
        chunk = self.chunk_seq
        self.chunks[chunk] = [sum(1 for d, p in parts if d != self.id and "next" in p), []]
        for dest, part in parts:
            if dest == self.id:
                local_unseen += self._take_local(part, chunk=chunk)
            else:
                batches[dest] = self._ask(part, chunk)
        self._settle(chunk)
        left = self.current.unread
        return ExpandReport(batches, done, generated, left > 0, self.store.count, local_unseen,
                            left)

    # ------------------------------------------------------------------ ownership
    # A successor owned by another shard is not sent there: only its fingerprint and
    # candidate link are (``_ask``). The owner decides, in its visited set, whether it is
    # new (``receive``) and answers; the asking shard then keeps the new states in its own
    # levels and checks them (``adopt``). States never travel between shards while a level
    # is expanded; which shard expands a state does not change what is found.

    def _take_local(self, part: dict[str, tuple], at: int | None = None,
                    chunk: int | None = None) -> int:
        """Successors this shard owns itself (``at``: their level, for the roots)."""
        for kind in ("same", "next"):
            if kind in part:
                fps, parents, pos, states, index = part[kind]
                level = at if at is not None else (
                    self.depth if kind == "same" else self.depth + 1)
                fresh, _ = self._offer(level, fps, parents, pos)
                picked = fresh if index is None else index[fresh]  # see _Outbox.parts
                self._keep(level, fps, [states[i] for i in picked.tolist()], fresh,
                           kind == "same", chunk, index)
        return self._probe(part["probe"][0]) if "probe" in part else 0

    def _ask(self, part: dict[str, tuple], chunk: int) -> bytes:
        """The batch for another shard: fingerprints and links; the states wait here.

        Only the smallest link of each fingerprint travels, the one the owner's
        ``LinkStore.offer`` would keep: 57% of a 3-server batch are duplicates, so the
        bytes sent (a network's, on Ray) and the states waiting here halve, and the
        duplicates are freed now, while they are still in the cache."""
        self.asked += 1
        wire, waiting = {}, {}
        for kind, (fps, parents, pos, states, index) in part.items():
            if kind == "probe":
                wire[kind] = (np.unique(fps).tobytes(),)
                continue
            best = smallest_links(fps, parents, pos)
            if best.size < fps.size:
                fps, parents, pos, index = fps[best], parents[best], pos[best], index[best]
            waiting[kind] = (fps, [states[i] for i in index.tolist()], index)
            wire[kind] = (fps.tobytes(), parents.tobytes(), pos.astype(np.uint16).tobytes())
        if waiting:
            self.waiting[self.asked] = (chunk, waiting)
        return marshal.dumps((self.id, self.asked, wire))

    def receive(self, data: bytes) -> tuple[int, tuple | None]:
        """Decide, for another shard's successors, which are new here. Returns the number
        of new unseen probe fingerprints and the answer for the asking shard
        ``(shard, batch, {kind: status bytes})``: 1 new, 2 moved to this level, 0 known."""
        sender, batch, wire = marshal.loads(data)
        answers = {}
        for kind in ("same", "next"):
            if kind not in wire:
                continue
            fps_b, parents_b, pos_b = wire[kind]
            fps = np.frombuffer(fps_b, dtype=np.uint64)
            level = self.depth if kind == "same" else self.depth + 1
            fresh, moved = self._offer(level, fps, np.frombuffer(parents_b, dtype=np.uint64),
                                       np.frombuffer(pos_b, dtype=np.uint16).astype(np.int64),
                                       distinct=True)  # ``_ask`` sent one link each
            status = np.zeros(len(fps), dtype=np.uint8)
            status[fresh] = 1
            status[moved] = 2
            answers[kind] = status.tobytes()
        unseen = self._probe(np.frombuffer(wire["probe"][0], dtype=np.uint64)) \
            if "probe" in wire else 0
        return unseen, ((sender, batch, answers) if answers else None)

    def adopt(self, received: tuple[int, tuple | None]) -> int:
        """Keep the states the owner found new (``received`` is what ``receive``
        returned); returns its probe count, for backends that chain the two calls."""
        unseen, answer = received
        if answer is None:
            return unseen
        _, batch, answers = answer
        chunk, waiting = self.waiting.pop(batch)
        for kind, status_bytes in answers.items():
            status = np.frombuffer(status_bytes, dtype=np.uint8)
            fps, states, index = waiting[kind]
            level = self.depth if kind == "same" else self.depth + 1
            fresh = np.flatnonzero(status == 1)
            self._keep(level, fps, [states[i] for i in fresh.tolist()], fresh,
                       kind == "same", chunk, index)
        if "next" in answers:
            self.chunks[chunk][0] -= 1
            self._settle(chunk)
        return unseen

    def _offer(self, level: int, fps: np.ndarray, parents: np.ndarray, pos: np.ndarray,
               distinct: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Offer links to the owned visited set; count what it stores."""
        fresh, moved = self.store.offer(fps, parents, pos, level, distinct)
        if fresh.size:
            self.level_counts[level] = self.level_counts.get(level, 0) + int(fresh.size)
        if moved.size:  # 0-cost steps reached states stored one level deeper
            self.level_counts[level + 1] -= int(moved.size)
            self.level_counts[level] = self.level_counts.get(level, 0) + int(moved.size)
            self.moved_now.append(fps[moved])
        return fresh, moved

    def _keep(self, level: int, fps: np.ndarray, new_states: list, fresh: np.ndarray,
              same: bool, chunk: int | None = None, index: np.ndarray | None = None
              ) -> None:
        """Check the new states (``new_states``: those at positions ``fresh`` of the part)
        and put them into the next level (states of the level being expanded, reached by
        0-cost steps, were expanded when they were reached); those of an expansion
        ``chunk`` wait for the chunk's other parts (``index``: their positions in it)."""
        if fresh.size:
            self._check(level, fps[fresh], new_states)
            if same:
                return
            if chunk is not None and index is not None:
                self.chunks[chunk][1].append((index[fresh], fps[fresh], new_states))
            else:
                (self.current if level == self.depth else self.next).append(
                    fps[fresh], new_states)

    def _settle(self, chunk: int) -> None:
        """Once every owner has answered: the chunk's new states, in generation order."""
        outstanding, pieces = self.chunks[chunk]
        if outstanding:
            return
        del self.chunks[chunk]
        if len(pieces) == 1:
            _, fps, states = pieces[0]
        elif pieces:
            order = np.argsort(np.concatenate([p[0] for p in pieces]), kind="stable")
            fps = np.concatenate([p[1] for p in pieces])[order]
            merged = [s for p in pieces for s in p[2]]
            states = [merged[i] for i in order.tolist()]
        else:
            return
        self.next.append(fps, states)

    def _probe(self, fps: np.ndarray) -> int:
        fps = np.unique(fps)
        fresh = fps[~self.store.contains(fps)]
        fresh = fresh[~np.isin(fresh, self.probe_unseen)]
        if fresh.size:
            self.probe_unseen = np.union1d(self.probe_unseen, fresh)
        return int(fresh.size)

    def _follow_reduced(self, work: list, out: _Outbox) -> tuple[list, int]:
        """Partial-order reduction: split ``work`` into states to expand fully and reduced
        steps, and follow the reduced (0-cost) steps here and now, chain by chain, instead
        of waiting for their owners' answers (a chain of k such steps would otherwise cost
        k round trips). Each step is still offered to its owner, which settles counts and
        links and checks nothing here: a state reached by a 0-cost step is expanded by
        every shard that reaches it first in this level (extra work, never extra states).
        Chains end: every reduced step lowers the model's ``por_measure``."""
        full: list = []
        steps = 0
        todo, fps = self._not_expanded(work)
        while todo:
            self.expanded_now.add_sorted(np.unique(fps))  # todo holds no member yet
            more_full, reduced = self.reducer.split(todo)
            full.extend(more_full)
            if not reduced:
                break
            steps += len(reduced)
            self.fired.update(r[1] for r in reduced)
            out.add("same", [r[3] for r in reduced], [r[0] for r in reduced],
                    [r[4] for r in reduced], [r[2] for r in reduced])
            todo, fps = self._not_expanded([(r[3], r[2]) for r in reduced])
        return full, steps

    def _not_expanded(self, work: list) -> tuple[list, np.ndarray]:
        """The ``(fingerprint, state)`` pairs this shard has not expanded in this level,
        with their fingerprints."""
        fps = np.fromiter((fp for fp, _ in work), np.uint64, len(work))
        if not work or not self.expanded_now.runs:
            return work, fps
        fresh = ~self.expanded_now.contains(fps)
        return [w for w, new in zip(work, fresh.tolist(), strict=True) if new], fps[fresh]

    def _not_moved(self, fps: np.ndarray, states: list) -> tuple[np.ndarray, list]:
        """Drop states that partial-order reduction moved to the level before (they were
        expanded there)."""
        if not len(self.skip):
            return fps, states
        keep = ~np.isin(fps, self.skip)
        if keep.all():
            return fps, states
        return fps[keep], [s for s, k in zip(states, keep.tolist(), strict=True) if k]

    # ------------------------------------------------------------------ balance
    def export(self, count: int) -> bytes:
        """Give away about ``count`` unread states of the current level (load balance at
        the start of a level, and to a shard that ran out of work within one: which shard
        expands a state does not matter)."""
        taken, parts = 0, []
        while taken < count and self.current.unread:
            fps, packed = self.current.take_last()  # packed blocks travel as they are
            parts.append((fps.tobytes(), packed))
            taken += len(fps)
        return marshal.dumps(parts)

    def import_states(self, data: bytes) -> int:
        for fps_b, packed in marshal.loads(data):
            self.current.append_packed(np.frombuffer(fps_b, dtype=np.uint64).copy(), packed)
        return self.current.unread

    def _check(self, level: int, fps: np.ndarray, states: list) -> None:
        """Invariants and witnesses on newly stored states; per property the smallest
        fingerprint on the shallowest level is kept (the same for every shard count)."""
        if not self.pending_inv and not self.pending_wit:
            return
        for prop in self.pending_inv:  # map: the loop runs in C; the rare hit in Python
            if not all(map(prop.predicate, states)):
                values = list(map(prop.predicate, states))
                self._found(prop.name, level, min(
                    fp for fp, ok in zip(fps.tolist(), values, strict=True) if not ok))
        for prop in self.pending_wit:
            if any(map(prop.predicate, states)):
                values = list(map(prop.predicate, states))
                self._found(prop.name, level, min(
                    fp for fp, ok in zip(fps.tolist(), values, strict=True) if ok))

    def _found(self, name: str, level: int, fp: int) -> None:
        old = self.found.get(name)
        if old is None or (level, fp) < old:
            self.found[name] = (level, fp)

    def _note_deadlock(self, fp: int) -> None:
        self.deadlocks += 1
        if self.deadlock is None or (self.depth, fp) < self.deadlock:
            self.deadlock = (self.depth, fp)

    # ------------------------------------------------------------------ levels
    def end_level(self) -> LevelReport:
        return LevelReport(
            self.id, self.store.count, dict(self.level_counts), dict(self.found),
            self.deadlocks, self.deadlock, self.generated, self.expanded,
            self.store.memory_bytes(), self.current.spilled_bytes + self.next.spilled_bytes,
            self.current.unread + self.next.count,
            {"pid": os.getpid(), "rss": resident_bytes(), "cpus": allowed_cpus(),
             "packed_states": self.packed[0] + self.current.packed_states
             + self.next.packed_states,
             "packed_total": self.packed[1] + self.current.packed_bytes
             + self.next.packed_bytes,
             "moved": np.concatenate(self.moved_now).tobytes() if self.moved_now else b"",
             "fired": dict(self.fired),
             **({"por": self.reducer.stats()} if self.reducer is not None else {})})

    def begin_level(self, decided: Sequence[str], moved: bytes = b"") -> int:
        """Make the next level current; stop checking the properties already decided;
        ``moved``: states every owner moved to the level just done (skipped now)."""
        self.drop_properties(decided)
        self.skip = np.sort(np.frombuffer(moved, dtype=np.uint64))
        self.expanded_now = FingerprintSet()
        self.packed = (self.packed[0] + self.current.packed_states,
                       self.packed[1] + self.current.packed_bytes)
        self.moved_now = []
        self.current.close()
        self.current = self.next
        self.depth += 1
        self.next = self._level(self.depth + 1)
        return self.current.count

    def drop_properties(self, decided: Sequence[str]) -> None:
        gone = set(decided)
        self.pending_inv = [p for p in self.pending_inv if p.name not in gone]
        self.pending_wit = [p for p in self.pending_wit if p.name not in gone]

    def unread_count(self) -> int:
        return self.current.unread

    def link(self, fp: int) -> tuple[int, int, int] | None:
        return self.store.link(fp)

    def close(self) -> None:
        self.current.close()
        self.next.close()

    # ------------------------------------------------------------------ checkpoints
    def save(self, directory: str) -> dict[str, Any]:
        """This shard's store, the unread part of its current level and its next level
        (empty between two levels), and its counters."""
        out = Path(directory)
        np.savez(out / f"store-{self.id}.npz", **self.store.arrays())
        self.current.save(out / f"current-{self.id}.bin")
        self.next.save(out / f"next-{self.id}.bin")
        moved = np.concatenate(self.moved_now) if self.moved_now else np.zeros(0, np.uint64)
        np.save(out / f"moved-{self.id}.npy", moved)
        np.save(out / f"skip-{self.id}.npy", self.skip)
        return {"level_counts": self.level_counts, "found": self.found,
                "deadlocks": self.deadlocks, "deadlock": self.deadlock,
                "generated": self.generated, "expanded": self.expanded}

    def restore(self, directory: str, old_shards: int, counters: dict[str, Any]) -> int:
        """Load every old shard's files, keeping the fingerprints this shard owns."""
        folder = Path(directory)
        n, me = self.n, self.id

        def mine(fps: np.ndarray) -> np.ndarray:
            return fps % np.uint64(n) == np.uint64(me)

        self.depth = int(counters["depth"])
        self.current = self._level(self.depth)
        self.next = self._level(self.depth + 1)
        for old in range(old_shards):
            # POR's moved states: every shard skips their old copies; one shard reports
            self.skip = np.union1d(self.skip, np.load(folder / f"skip-{old}.npy"))
            if self.id == 0:
                self.moved_now.append(np.load(folder / f"moved-{old}.npy"))
            with np.load(folder / f"store-{old}.npz") as data:
                arrays = {k: data[k] for k in data.files}
            self.store.load(arrays, mine(arrays["fps"]))
            self.current.restore(folder / f"current-{old}.bin", mine)
            self.next.restore(folder / f"next-{old}.bin", mine)
        levels = np.concatenate(list(self.store.iter_levels())) if self.store.runs else \
            np.zeros(0, dtype=np.uint16)
        self.level_counts = {int(lv): int(c) for lv, c in
                             enumerate(np.bincount(levels)) if c}
        if self.id == 0:  # totals that are not per state live in the first shard
            self.deadlocks = int(counters["deadlocks"])
            self.generated = int(counters["generated"])
            self.fired.update(counters.get("fired", {}))
        self.drop_properties(counters["decided"])
        return self.store.count


class _Outbox:
    """Successors grouped by owner, duplicates included."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.groups: dict[str, list] = {}

    def add(self, kind: str, fps: list[int], parents: list[int] | None,
            pos: list[int] | None, states: list | None) -> None:
        self.groups.setdefault(kind, []).append((fps, parents, pos, states))

    def parts(self) -> list[tuple[int, dict[str, tuple]]]:
        per_dest: list[dict[str, tuple]] = [{} for _ in range(self.n)]
        for kind, chunks in self.groups.items():
            fps = np.array(chunks[0][0] if len(chunks) == 1 else
                           [fp for c in chunks for fp in c[0]], dtype=np.uint64)
            if kind == "probe":
                owners = fps % np.uint64(self.n) if self.n > 1 else None
                for dest in range(self.n):
                    sel = fps if owners is None else fps[owners == dest]
                    if sel.size:
                        per_dest[dest]["probe"] = (sel, None, None, None, None)
                continue
            if len(chunks) == 1:
                parents = np.array(chunks[0][1], dtype=np.uint64)
                pos = np.array(chunks[0][2], dtype=np.int64)
                states = chunks[0][3]
            else:
                parents = np.array([p for c in chunks for p in c[1]], dtype=np.uint64)
                pos = np.array([p for c in chunks for p in c[2]], dtype=np.int64)
                states = [s for c in chunks for s in c[3]]
            if self.n == 1:  # the owner itself keeps the smallest link per fingerprint
                per_dest[0][kind] = (fps, parents, pos, states, None)
                continue
            # in the order of generation: siblings stay together in the levels, where a
            # packed block shares their common parts (fingerprint order would scatter
            # them and triple the bytes per packed state). ``Shard._ask`` drops the
            # duplicates of another owner's part before it travels. Every part refers to
            # the whole list of states, ``sel`` to its own: only the states kept or asked
            # about are picked out, once.
            owners = fps % np.uint64(self.n)
            for dest in range(self.n):
                sel = np.flatnonzero(owners == dest)
                if sel.size:
                    per_dest[dest][kind] = (fps[sel], parents[sel], pos[sel], states, sel)
        return [(d, p) for d, p in enumerate(per_dest) if p]
