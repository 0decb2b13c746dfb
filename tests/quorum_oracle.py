"""Brute-force oracle for the quorum proofs: enumerate every subset (<= 9 voters).

``java_contains_quorum`` is an independent transliteration of the *behaviour* of
QuorumHierarchical.containsQuorum / QuorumMaj.containsQuorum (Java long division, the
zero-weight-group discount, skipped non-group ids), used to cross-check model/quorum.py;
everything else enumerates subsets to recompute what Z3 proves.
"""

from __future__ import annotations

from itertools import combinations

from zkcheck.model.quorum import QuorumHierarchical, QuorumMaj


def _jdiv2(value: int) -> int:
    return int(value / 2)  # Java truncates toward zero (exact for these small ints)


def java_contains_quorum(verifier, sids: frozenset[int]) -> bool:
    if isinstance(verifier, QuorumMaj):
        return len(sids) > len(verifier.voters) // 2
    if not sids:
        return False
    group_of = {s: g for g, members in verifier.groups.items() for s in members}
    totals: dict[int, int] = {}
    for members_gid, members in verifier.groups.items():
        totals[members_gid] = sum(verifier.weights[s] for s in members)
    # Java counts group.* keys (group.1 and group.01 are one id but two keys)
    num_groups = verifier.group_keys - sum(1 for w in totals.values() if w == 0)
    expansion: dict[int, int] = {}
    for sid in sids:
        gid = group_of.get(sid)
        if gid is not None:
            expansion[gid] = expansion.get(gid, 0) + verifier.weights[sid]
    counter = sum(1 for gid, w in expansion.items() if w > _jdiv2(totals[gid]))
    return counter > num_groups // 2


def subsets(universe) -> list[frozenset[int]]:
    items = sorted(universe)
    return [frozenset(c) for k in range(len(items) + 1) for c in combinations(items, k)]


def quorums(verifiers, universe) -> list[frozenset[int]]:
    """Sets over ``universe`` that are a quorum of every verifier (joint when several)."""
    return [s for s in subsets(universe)
            if all(java_contains_quorum(v, s & v.voters) for v in verifiers)]


def disjoint_pair_exists(first: list[frozenset[int]], second: list[frozenset[int]]) -> bool:
    return any(not (a & b) for a in first for b in second)


def kills(failed: frozenset[int], qs: list[frozenset[int]]) -> bool:
    return all(q & failed for q in qs)


def tolerance(verifiers, universe) -> tuple[int, int]:
    """(max f, number of failure sets of size f + 1 that meet every quorum)."""
    qs = quorums(verifiers, universe)
    items = sorted(universe)
    for size in range(len(items) + 1):
        count = sum(1 for c in combinations(items, size) if kills(frozenset(c), qs))
        if count:
            return size - 1, count
    raise AssertionError("even failing every voter leaves a quorum")


def redundant_voters(verifier) -> list[int]:
    """Voters whose removal (as the config would be rewritten) keeps the tolerance."""
    f, _ = tolerance([verifier], verifier.voters)
    out = []
    for sid in sorted(verifier.voters):
        if isinstance(verifier, QuorumMaj):
            rest = verifier.voters - {sid}
            if not rest:
                continue
            smaller = QuorumMaj(rest)
        else:
            groups = {g: [s for s in m if s != sid] for g, m in verifier.groups.items()}
            groups = {g: m for g, m in groups.items() if m}
            if not groups:
                continue
            smaller = QuorumHierarchical(groups, verifier.weights)
            if not smaller.counted_groups:
                continue
        if tolerance([smaller], smaller.voters)[0] >= f:
            out.append(sid)
    return out
