"""Properties recomputed from primary state, independent of the model's bookkeeping.

The model records what the invariants need at the moment it happens (decision evidence
``F_DEC``, the support mask, the quorum tables built from the verifier). A bug in that
bookkeeping would be checked against itself. The checks here start again from what the
servers actually hold -- the votes in recvset, each server's persistent (currentEpoch,
lastZxid), the voter set of the configuration -- and count quorums with their own
majority/weight rule built from the configuration, not the model's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from zkcheck.model.state import (
    F_AE,
    F_CE,
    F_CLOCK,
    F_DEC,
    F_PHASE,
    F_PROP,
    F_RECV,
    F_STATE,
    F_ZAB,
    F_ZXID,
    H_ACKED,
    H_EPOCH,
    H_LEADER,
    L_SYNC,
    LOOKING,
    P_DOWN,
    P_FINAL,
    P_ROUND,
    VOTE_BITS,
    ZR_LEADER,
    key_to_vote,
    unpack_key,
)

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel


def config_quorum(m: FLEModel) -> Callable[[int], bool]:
    """``is_quorum(index mask)`` from the configuration alone: the voters' sids, asked of
    the verifier one set at a time (not the model's precomputed table); observers in the
    mask are ignored, as ZooKeeper's quorum verifiers only count voting members."""
    voters = frozenset(m.config.voters)
    sids = m.sids
    verifier = m.verifier
    answers: dict[int, bool] = {}  # the verifier's answer per mask, asked once

    def is_quorum(mask: int) -> bool:
        known = answers.get(mask)
        if known is None:
            members = [sid for k, sid in enumerate(sids) if mask >> k & 1 and sid in voters]
            known = answers[mask] = bool(members) and bool(verifier.is_quorum(members))
        return known

    return is_quorum


def recvset_support(m: FLEModel, s: tuple) -> int:
    """Voters (index mask, from the configuration) whose recvset vote equals the server's
    current proposal in its current round, on all four fields (§3.2)."""
    return support_of(m)(s)


def support_of(m: FLEModel) -> Callable[[tuple], int]:
    """``recvset_support`` for one model, with the voter mask read from the configuration
    once (the checks call it for every new state)."""
    voters = frozenset(m.config.voters)
    voter_mask = sum(1 << j for j, sid in enumerate(m.sids) if sid in voters)

    def support(s: tuple) -> int:
        target = key_to_vote(s[F_PROP], s[F_CLOCK]) & VOTE_BITS
        mask = 0
        for j, v in enumerate(s[F_RECV]):
            if v is not None and voter_mask >> j & 1 and v & VOTE_BITS == target:
                mask |= 1 << j
        return mask

    return support


def decision_supported_recomputed(m: FLEModel) -> Callable[[tuple], bool]:
    """The primary-state half of DecisionSupported: a server in the finalize wait holds, in
    recvset, a quorum of voters' votes equal to its proposal in its round (the only way into
    the wait, §5.4); a recorded decision names a support set that is a quorum of the
    configuration's voters."""
    is_quorum = config_quorum(m)
    support = support_of(m)

    def check(state: tuple) -> bool:
        for s in state[0]:
            if s[F_PHASE] == P_FINAL and not is_quorum(support(s)):
                return False
            dec = s[F_DEC]
            if dec is not None and not is_quorum(dec[1]):
                return False
        return True

    return check


def established_by_quorum(m: FLEModel) -> Callable[[tuple], bool]:
    """EstablishedByQuorum (§7 L3, §8.2): every establishment in the history was
    acknowledged by a quorum of the configuration's voters that includes the leader, and
    every member of that quorum has accepted the epoch (its persistent acceptedEpoch, which
    never decreases, is at least the epoch) -- the premises of Leadership. Catches a
    leader that stops waiting for the ACKEPOCH quorum (ZOOKEEPER-1191/1192) or counts
    FOLLOWERINFO senders as acks, at its first establishment, long before a second leader
    of the same epoch can appear."""
    is_quorum = config_quorum(m)
    index = m.index

    def check(state: tuple) -> bool:
        servers = state[0]
        for h in state[5]:
            acked = h[H_ACKED]
            if not (acked >> index[h[H_LEADER]] & 1 and is_quorum(acked)):
                return False
            epoch = h[H_EPOCH]
            for k, s in enumerate(servers):
                if acked >> k & 1 and s[F_AE] < epoch:
                    return False
        return True

    return check


IN_ROUND = (P_ROUND, P_FINAL)


def elected_is_most_up_to_date(m: FLEModel) -> Callable[[tuple], bool]:
    """ElectedIsMostUpToDate (§8.2, the election-level property): when a server reaches the
    finalize wait, the leader its quorum votes for claims a (peerEpoch, zxid) not older than
    the (currentEpoch, lastZxid) of every voter of that quorum that still votes in the same
    round -- FLE's vote order compares epoch and zxid before the sid, so a quorum can only
    agree on the most up-to-date of its members.

    Read from primary state: the supporters are the voters whose recvset vote equals the
    proposal (recomputed, not the recorded mask); their (currentEpoch, lastZxid) is their
    own persistent state. Exceptions (documented after §8): only a supporter that is still
    inside the same round and still proposes that leader is compared -- one that left the
    round may have synced with a leader since it voted, and a vote delivered late (a
    restart, a re-sent last message) may be older than its sender's state; under the 3.3
    order (``vote_order_zxid_sid``) votes have no epoch, so only zxids are compared."""
    zxid_only = m.variant.vote_order_zxid_sid
    index = m.index
    voters = m.config.voters
    support_at = support_of(m)

    def check(state: tuple) -> bool:
        servers = state[0]
        for s in servers:
            if s[F_PHASE] != P_FINAL:
                continue
            _leader, zxid, pe = unpack_key(s[F_PROP])
            claim = (0, zxid) if zxid_only else (pe, zxid)
            clock = s[F_CLOCK]
            support = support_at(s)
            for sid in voters:
                j = index[sid]
                if not support >> j & 1:
                    continue
                t = servers[j]
                if (t[F_PHASE] not in IN_ROUND or t[F_STATE] != LOOKING
                        or t[F_CLOCK] != clock or t[F_PROP] != s[F_PROP]):
                    continue
                own = (0, t[F_ZXID]) if zxid_only else (t[F_CE], t[F_ZXID])
                if own > claim:
                    return False
        return True

    return check


def newleader_ack_durable(m: FLEModel) -> Callable[[tuple], bool]:
    """NewLeaderAckDurable (§7 f4, L4): every server whose ACK of NEWLEADER(e) a running
    leader has counted holds currentEpoch >= e on disk, for as long as that leader runs
    (the leader counts itself once it has set its own currentEpoch). Zab 1.0 has a learner
    persist the new epoch before it acknowledges NEWLEADER, so that the NEWLEADER quorum --
    the servers that took epoch e's initial history -- outranks, by currentEpoch, the first
    key of both the vote and ACKEPOCH, every server that missed epoch e; otherwise a later
    leader can be elected and established on a history that epoch e's quorum had dropped
    (ZOOKEEPER-1282: currentEpoch written on UPTODATE; ZOOKEEPER-1387: currentEpoch lowered
    by a restart).

    Read from primary state: the set of ACKs the leader's handlers have counted (its own
    protocol state, ``newLeaderProposal.ackSet``) and each member's persistent currentEpoch;
    nothing the model records for the invariants."""
    def check(state: tuple) -> bool:
        servers = state[0]
        for s in servers:
            z = s[F_ZAB]
            if z is None or z[0] != ZR_LEADER or z[1] < L_SYNC or s[F_PHASE] == P_DOWN:
                continue
            epoch = z[2]
            acks = z[3]
            for k, t in enumerate(servers):
                if acks >> k & 1 and t[F_CE] < epoch:
                    return False
        return True

    return check
