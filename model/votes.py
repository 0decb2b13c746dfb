"""Votes: the total order ``better`` (§3.3) and vote equality (§3.2).

A vote value for the order is ``(leader, zxid, peerEpoch)``; stored votes are
``(leader, zxid, round, peerEpoch, state)`` (see ``zkcheck.model.state``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import permutations

from zkcheck.model.state import LOOKING, pack_key, unpack_key, unpack_vote
from zkcheck.model.variants import Variant

VoteValue = tuple[int, int, int]  # (leader sid, zxid, peerEpoch)


def make_better(weight: Callable[[int], int], variant: Variant) -> Callable[[int, int], bool]:
    """``better(new_key, cur_key)``: ZooKeeper's ``totalOrderPredicate`` (§3.3) on proposal
    keys (``zkcheck.model.state.pack_key``, ordered like (peerEpoch, zxid, leader)).

    1. false if the quorum verifier gives the new leader weight 0 (never propose a
       zero-weight server, ZOOKEEPER-491);
    2. true iff (epoch, zxid, id) of the new vote is lexicographically greater, which is
       the integer order of the keys.

    With ``variant.vote_order_1419`` the pre-3.4.4 predicate is used instead: (epoch >) or
    (epoch = and zxid >) or (zxid = and id >) -- the last clause ignores the epoch; with
    ``variant.vote_order_zxid_sid`` the 3.3 predicate (zxid, id), which ignores the epoch.
    It looks only at the vote, never at the round or the sender's state.
    """
    positive = tuple(weight(leader1 - 1) > 0 for leader1 in range(64))

    if variant.vote_order_1419:
        def better_1419(new: int, cur: int) -> bool:
            if not positive[new & 63]:
                return False
            nl, nz, ne = unpack_key(new)
            cl, cz, ce = unpack_key(cur)
            return ne > ce or (ne == ce and nz > cz) or (nz == cz and nl > cl)
        return better_1419

    if variant.vote_order_zxid_sid:
        def better_33(new: int, cur: int) -> bool:
            if not positive[new & 63]:
                return False
            nl, nz, _ = unpack_key(new)
            cl, cz, _ = unpack_key(cur)
            return (nz, nl) > (cz, cl)
        return better_33

    def better(new: int, cur: int) -> bool:
        return new > cur and positive[new & 63]
    return better


def better_votes(better: Callable[[int, int], bool], a: VoteValue, b: VoteValue) -> bool:
    """``better`` on plain (leader, zxid, peerEpoch) triples."""
    return better(pack_key(*a), pack_key(*b))


def votes_equal(a: int, a_version: int, b: int, b_version: int,
                all_fields: bool = False) -> bool:
    """ZooKeeper's ``Vote.equals`` on vote words (§3.2, 3.5.5+/3.6+ form), the reference the
    election's masked comparisons implement (tests check they agree).

    * either vote LOOKING: leader, zxid, round and peerEpoch all equal (state not compared);
    * both FOLLOWING/LEADING: if exactly one has version > 0, the leader ids are equal;
      otherwise leader and peerEpoch are equal.

    ``all_fields`` (variant ``ooe_equality_all_fields``, ZOOKEEPER-1732) compares all four
    fields in every case, as 3.4.0-3.4.5 did.
    """
    sa, la, za, ra, pa = unpack_vote(a)
    sb, lb, zb, rb, pb = unpack_vote(b)
    if all_fields or sa == LOOKING or sb == LOOKING:
        return (la, za, ra, pa) == (lb, zb, rb, pb)
    if (a_version > 0) != (b_version > 0):
        return la == lb
    return la == lb and pa == pb


def is_strict_total_order(better: Callable[..., bool], values: Iterable[VoteValue],
                          weight: Callable[[int], int] | None = None) -> str | None:
    """Static check (§8.3 item 3, "VoteOrderIsStrict"): ``better`` must be irreflexive,
    asymmetric and transitive on ``values``, and total on distinct votes whose leader has
    positive ``weight`` (zero-weight leaders are never better than anything, by rule 1).

    Returns ``None`` if it is, else one line naming the offending votes. Catches
    ZOOKEEPER-1419 without running the protocol.
    """
    vals = sorted(set(values))
    keys = {v: pack_key(*v) for v in vals}

    def b(x: VoteValue, y: VoteValue) -> bool:
        return better(keys[x], keys[y])

    for v in vals:
        if b(v, v):
            return f"not irreflexive: {v} is better than itself"
    for a, c_ in permutations(vals, 2):
        if b(a, c_) and b(c_, a):
            return f"not asymmetric: {a} and {c_} are each better than the other"
    for a, c_ in permutations(vals, 2):
        if not b(a, c_):
            continue
        for c in vals:
            if c != a and c != c_ and b(c_, c) and not b(a, c):
                return f"not transitive: {a} > {c_} > {c} but not {a} > {c}"
    if weight is not None:
        for a, c_ in permutations(vals, 2):
            if weight(a[0]) and weight(c_[0]) and not b(a, c_) and not b(c_, a):
                return f"not total: neither of {a} and {c_} is better than the other"
    return None
