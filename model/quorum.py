"""Quorum verifiers (fle-semantics.md §3.4): ZooKeeper's QuorumMaj and QuorumHierarchical.

A verifier answers "is this set of sids a quorum?" and "what is this sid's weight?" (the
weight feeds rule 1 of FLE's vote order: a zero-weight server is never proposed). The FLE
model asks on bitmasks (bit ``1 << sid`` set for each member) because that is what its state
holds; answers are cached per mask. The Z3 encodings of the same rules live in
``invariants/quorum_z3.py`` and are cross-checked against these by brute force in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property


def java_half(value: int) -> int:
    """``value / 2`` with Java's long division, which truncates toward zero (-3/2 == -1)."""
    return -((-value) // 2) if value < 0 else value // 2


def _mask(sids: Iterable[int]) -> int:
    mask = 0
    for sid in sids:
        mask |= 1 << sid
    return mask


class QuorumMaj:
    """ZooKeeper's QuorumMaj: a set is a quorum iff it has more than half of the voters.

    Rule: ``|S| > n / 2`` (integer division), n = number of voters (participants); every
    voter has weight 1. Like ZooKeeper it does not filter the set: callers put only voters
    into it (FLE does; the Zab epoch code does since ZOOKEEPER-2959).
    """

    kind = "majority"
    monotone = True

    def __init__(self, voters: Iterable[int]):
        self.voters: frozenset[int] = frozenset(voters)
        self.half = len(self.voters) // 2

    def weight(self, sid: int) -> int:
        return 1 if sid in self.voters else 0

    def is_quorum(self, sids: Iterable[int]) -> bool:
        return len(set(sids)) > self.half

    def is_quorum_mask(self, mask: int) -> bool:
        return mask.bit_count() > self.half

    @cached_property
    def voter_mask(self) -> int:
        return _mask(self.voters)

    def __repr__(self) -> str:
        return f"QuorumMaj(voters={sorted(self.voters)})"


class QuorumHierarchical:
    """ZooKeeper's QuorumHierarchical (flexible/QuorumHierarchical.java), rule for rule.

    Servers sit in disjoint groups; each has an integer weight (default 1). With
    ``W(g)`` the total weight of group g and ``n`` the number of groups whose ``W(g) != 0``,
    a set S is a quorum iff

    1. S is not empty, and
    2. more than ``n / 2`` groups g are *majority groups* of S: g has a member in S and the
       summed weight of g's members in S is ``> W(g) / 2``.

    Both divisions are Java long divisions (truncating toward zero). Members of S that are
    in no group (observers, unknown sids) are skipped. Consequences: a weight-0 server never
    helps a group; a group with ``W(g) == 0`` is not counted in ``n``. ZooKeeper accepts
    negative weights, and then rule 2 is no longer monotone and two quorums can be disjoint
    (a group summing to 0 is dropped from ``n`` yet one positive member can still make it a
    majority group); this class reproduces that faithfully so the prover can expose it.
    """

    kind = "hierarchical"

    def __init__(self, groups: Mapping[int, Iterable[int]], weights: Mapping[int, int],
                 group_keys: int | None = None):
        """``group_keys``: how many ``group.*`` keys the file had (default: one per group).
        ZooKeeper counts keys, not distinct ids: ``group.1`` and ``group.01`` are one group
        (id 1) counted twice."""
        self.groups: dict[int, tuple[int, ...]] = {
            gid: tuple(sorted(members)) for gid, members in sorted(groups.items())
        }
        seen: set[int] = set()
        for gid, members in self.groups.items():
            if not members:
                raise ValueError(f"group {gid} is empty")
            if seen & set(members):
                raise ValueError(f"group {gid} shares servers with another group")
            seen.update(members)
        self.voters: frozenset[int] = frozenset(seen)
        self.weights: dict[int, int] = {sid: int(weights.get(sid, 1)) for sid in sorted(seen)}
        self.group_of: dict[int, int] = {
            sid: gid for gid, members in self.groups.items() for sid in members
        }
        self.group_weight: dict[int, int] = {
            gid: sum(self.weights[s] for s in members) for gid, members in self.groups.items()
        }
        self.group_keys = len(self.groups) if group_keys is None else group_keys
        self.counted_groups = self.group_keys - sum(
            1 for w in self.group_weight.values() if w == 0)
        self.monotone = all(w >= 0 for w in self.weights.values())
        self._cache: dict[int, bool] = {}

    def weight(self, sid: int) -> int:
        return self.weights.get(sid, 0)

    def group_threshold(self, gid: int) -> int:
        """A majority group of S has summed weight in S strictly above this."""
        return java_half(self.group_weight[gid])

    def majority_groups(self, sids: Iterable[int]) -> list[int]:
        """The groups that have more than half of their weight within ``sids``."""
        inside: dict[int, int] = {}
        for sid in set(sids):
            gid = self.group_of.get(sid)
            if gid is not None:
                inside[gid] = inside.get(gid, 0) + self.weights[sid]
        return [g for g, w in sorted(inside.items()) if w > self.group_threshold(g)]

    def is_quorum(self, sids: Iterable[int]) -> bool:
        members = set(sids)
        if not members:
            return False
        return len(self.majority_groups(members)) > self.counted_groups // 2

    def is_quorum_mask(self, mask: int) -> bool:
        answer = self._cache.get(mask)
        if answer is None:
            answer = self.is_quorum(sid for sid in self.group_of if mask >> sid & 1)
            self._cache[mask] = answer
        return answer

    @cached_property
    def voter_mask(self) -> int:
        return _mask(self.voters)

    def __repr__(self) -> str:
        return f"QuorumHierarchical(groups={self.groups}, weights={self.weights})"
