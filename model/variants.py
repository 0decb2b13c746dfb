"""Protocol variants: ZooKeeper 3.8 by default, historic bugs as named flags.

One seam: every rule that a historic bug changed reads exactly one field of ``Variant``
(fle-semantics.md §9, fle-bugs.md). The default value of each field is the ZooKeeper 3.8
rule; setting a field restores the pre-fix rule named in its docstring. The model never
copies a rule per version; it branches on the field where the rule is applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

from zkcheck.errors import InputError


@dataclass(frozen=True)
class Variant:
    """Which version of each bug-affected rule the model applies (default: ZooKeeper 3.8)."""

    vote_order_1419: bool = False
    """ZOOKEEPER-1419 (3.4.0-3.4.3): ``better`` is (epoch >) or (epoch = and zxid >) or
    (zxid = and id >); the last clause ignores the epoch, so the relation is not an order.
    Default: lexicographic (peerEpoch, zxid, id) (§3.3)."""

    checkleader_self_any_round: bool = False
    """ZOOKEEPER-1514 (<= 3.4.3): ``checkLeader`` is true unconditionally when the proposed
    leader is the server itself. Default: additionally requires logicalclock = round (§5.4)."""

    connect_back_fails: bool = False
    """ZOOKEEPER-2164 (3.5.0-3.5.7, 3.6.0): the larger sid's connect-back after rejecting a
    smaller sid's connection never succeeds, so a smaller sid can reach a larger one only
    when the larger one sends first. Default: connect-back works (§4.1)."""

    epoch_bump_strict: bool = False
    """ZOOKEEPER-1343 (3.4.0-3.4.2): the epoch candidate is raised to a+1 only if
    a > candidate (strict). Default: if a >= candidate, i.e. max(candidate, a+1) (§7 L1)."""

    observers_in_epoch_quorum: bool = False
    """ZOOKEEPER-2959 (3.4.0-3.4.12, 3.5.0-3.5.3): observers are added to the sets that
    decide and acknowledge the epoch. Default: only voters are counted (§7 L1, L3)."""

    no_update_election_vote: bool = False
    """ZOOKEEPER-1732 (3.4.0-3.4.5): after sync neither leader nor follower refresh the
    peerEpoch of their published vote. Default: ``updateElectionVote`` (§7 f4, L4)."""

    reply_round_logicalclock: bool = False
    """ZOOKEEPER-1732 (< 3.4.6): a non-LOOKING server answers a LOOKING one with its
    logicalclock as the round. Default: the round of its published vote (§5.1)."""

    ooe_equality_all_fields: bool = False
    """ZOOKEEPER-1732/1817 (3.4.0-3.4.5): out-of-election votes are equal only if leader,
    zxid, round and peerEpoch all match. Default: (leader, peerEpoch), or leader only
    between a versioned and an unversioned vote (§3.2)."""

    result_round_minus_one: bool = False
    """ZOOKEEPER-1732/1818 (3.4.0-3.4.5, 3.5.0-3.5.4): the vote returned by the LOOKING exit
    carries round -1. Default: logicalclock (§5.4 FinalizeDecide)."""

    exit_when_all_heard: bool = False
    """ZOOKEEPER-975 (<= 3.3.x): after recording a LOOKING vote, if every voter has an entry
    in recvset (and the proposed leader has non-zero weight), decide for the proposal at
    once, without comparing the votes. Default: only the quorum test + finalize wait."""

    follow_leading_same_round: bool = False
    """ZOOKEEPER-975 (<= 3.3.x): a LEADING notification of the receiver's own round makes it
    follow that leader at once (no quorum, no checkLeader). Default: Step A/B (§5.4)."""

    resend_last_always: bool = False
    """ZOOKEEPER-975 (<= 3.3.x): on a new connection the last sent message is re-sent even if
    a newer one is queued. Default: only when the send queue is empty (§4.2 item 5)."""

    vote_order_zxid_sid: bool = False
    """3.3.x and earlier (before ZOOKEEPER-1082 put the epoch first, 3.4.0): ``better``
    compares (zxid, id) only and ignores peerEpoch. Not a bug by itself (3.3 had no
    currentEpoch), but the 3.3 rule. Default: lexicographic (peerEpoch, zxid, id) (§3.3)."""

    ack_quorum_not_awaited_1191: bool = False
    """ZOOKEEPER-1191/1192 (trunk before 3.4.0): the wait for the ACKEPOCH quorum ends
    without re-checking it (a wake-up or timeout proceeds as if a quorum had acked), so the
    leader is established as soon as its epoch is decided. Default: the leader waits until
    ``electing`` holds itself and a quorum (§7 L3)."""

    ack_epoch_twice: bool = False
    """Seeded (no release had it): a learner answers LEADERINFO(e) with e = acceptedEpoch by
    a counted ACKEPOCH instead of ACKEPOCH(-1), acknowledging one epoch twice. Default: -1,
    "already acked this epoch, do not count me" (§7 f3)."""

    accepted_epoch_lost_on_crash: bool = False
    """Seeded (the acceptedEpoch file of ZOOKEEPER-335/1082 not written): acceptedEpoch is
    kept only in memory, so a restart reads it back as currentEpoch and the server may
    accept (and acknowledge) an epoch a second time. Default: persisted (§2.1)."""

    no_resend_on_connect_481: bool = False
    """ZOOKEEPER-481 (3.2.0; fixed by 083cbe793 on trunk, 3.2.1): the connection manager
    keeps no ``lastMessageSent``, so a message taken off the send queue and lost with its
    connection is not sent again when the connection comes back. Default: a new connection
    whose send queue is empty re-sends the last message (§4.2 item 5, §4.4)."""

    zxid_on_disk_only: bool = False
    """Simplification of the model up to ef93e5d (no release had it): one lastZxid per
    server, the on-disk one; a leader's ``startZkServer`` does not raise its in-memory
    zxid to (epoch, 0). Default: votes, FOLLOWERINFO/ACKEPOCH and the leader's summary use
    the in-memory zxid, which a restart reloads from disk (§2.1, §7)."""

    zxid_raised_early_790: bool = False
    """ZOOKEEPER-790 (up to 3.3.1; fixed by 2678baf5c on trunk, 10a1f58bf on branch-3.3):
    the leader's in-memory last processed zxid becomes (epoch, 0) as soon as its epoch is
    chosen, before a quorum has acknowledged NEWLEADER, so a leader that fails to gather
    its quorum re-enters the election with a zxid of an epoch nobody accepted. Default: at
    ``startZkServer``, after the NEWLEADER quorum (§7 L4)."""

    following_ignored_480: bool = False
    """ZOOKEEPER-480 (3.2.0; fixed by 930380c94 on trunk, 19179b9d0 on branch-3.2, 3.2.1):
    a FOLLOWING notification of the receiver's own round is not recorded in recvset (no
    Step A; only outofelection, Step B), and ``checkLeader`` demands the proposed leader's
    own LEADING message even when that leader is the receiver itself, so a server whose
    peers' vote change for it was lost cannot decide from their FOLLOWING answers ("if
    everyone else thinks I'm the leader, I must be" is missing). Default: Step A records
    the vote; checkLeader for oneself asks only for the current round (§5.4)."""

    current_epoch_on_uptodate_1282: bool = False
    """ZOOKEEPER-1282 (3.4.0-rc0 and trunk; fixed by 41ec40fb9 on branch-3.4 for 3.4.0-rc1,
    f8f15de5f on trunk): a learner writes currentEpoch := e only when UPTODATE arrives,
    after its NEWLEADER ACK was counted, so a NEWLEADER quorum may still vote with the old
    epoch. Default: currentEpoch := e on NEWLEADER, before the ACK (§7 f4)."""

    accepted_epoch_into_current_file_1387: bool = False
    """ZOOKEEPER-1387 (3.4.0-3.4.5; fixed by c84f7ef14 on trunk, 7db3ef7fa on branch-3.4,
    3.4.6): when the acceptedEpoch file is missing at start-up (an upgrade from 3.3, or a
    lost file) the default, the epoch of the last logged zxid, is written into the
    *currentEpoch* file and the acceptedEpoch file stays missing. If the currentEpoch read
    before was larger, the start fails (acceptedEpoch < currentEpoch) but the currentEpoch
    file now holds the lower value, so the next start succeeds with currentEpoch lowered.
    Default: the default is written into the acceptedEpoch file, and such a server never
    starts (§2.1; ``--missing-accepted-epoch``)."""

    have_delivered_all_empty_4605: bool = False
    """ZOOKEEPER-4605 fix as proposed (PR #1913, commit 96aace0a4; never merged, like
    ZOOKEEPER-3637's PRs #1164/#1167): ``haveDelivered`` is true only when *every* send
    queue is empty, so a poll timeout with some message still queued calls ``connectAll``
    instead of re-sending the notifications. The default is what every branch ships
    (branch-3.8, 3.9, master): true as soon as *one* queue is empty (§4.4). Unlike the
    other flags this one turns a fix on, not a pre-fix rule."""

    def flags(self) -> list[str]:
        """Names of the flags that differ from ZooKeeper 3.8."""
        return [f.name for f in fields(self) if getattr(self, f.name)]

    @property
    def name(self) -> str:
        """The release (``3.4.3``) if the flags are exactly a preset's, else ``3.8`` or
        ``3.8+flag,flag``, for reports."""
        for version, variant in PRESETS.items():
            if variant == self:
                return version
        changed = self.flags()
        return "3.8" + ("+" + ",".join(changed) if changed else "")

    @classmethod
    def from_flags(cls, names: list[str] | tuple[str, ...]) -> Variant:
        """A variant with the named pre-fix rules switched on; unknown names are an error."""
        known = {f.name for f in fields(cls)}
        for name in names:
            if name not in known:
                raise InputError(
                    f"unknown variant flag {name!r} (known: {', '.join(sorted(known))})")
        return cls(**{name: True for name in names})


ZK_3_8 = Variant()

PRESETS: dict[str, Variant] = {
    # fle-semantics.md §9 column 3.3.x; fle-bugs.md §1.1-§1.4. 3.3's pre-Zab-1.0 epoch
    # handling is not modelled: its Zab slice is the modern one (no Zab flags).
    "3.3": Variant(vote_order_zxid_sid=True, exit_when_all_heard=True,
                   follow_leading_same_round=True, resend_last_always=True,
                   checkleader_self_any_round=True, reply_round_logicalclock=True,
                   result_round_minus_one=True, ooe_equality_all_fields=True,
                   no_update_election_vote=True),
    # 3.4.0-3.4.3: the 1419 order, no 1514 round check, the whole 1732 family, observers in
    # the epoch quorum (2959, until 3.4.12). The 1343 bump rule was fixed in 3.4.3.
    "3.4.3": Variant(vote_order_1419=True, checkleader_self_any_round=True,
                     reply_round_logicalclock=True, result_round_minus_one=True,
                     ooe_equality_all_fields=True, no_update_election_vote=True,
                     observers_in_epoch_quorum=True),
    # 3.4.4-3.4.5: 1419 and 1514 fixed; the 1732 family and 2959 still there.
    "3.4.5": Variant(reply_round_logicalclock=True, result_round_minus_one=True,
                     ooe_equality_all_fields=True, no_update_election_vote=True,
                     observers_in_epoch_quorum=True),
    # 3.5.0-3.5.4: the interim 1732 fix (replies carry the vote's round, equality ignores
    # the "-1 don't care" zxid/round, votes refreshed after sync) but the LOOKING exit still
    # builds its vote with round -1 (1818); 2164's connect-back failure (until 3.5.7);
    # 2959 fixed in 3.5.4.
    "3.5.4": Variant(result_round_minus_one=True, connect_back_fails=True),
    "3.8": ZK_3_8,
}
"""Release presets (``--zk-version``): the pre-fix rules each release still had.

Rules of a release that the model does not have a flag for: 3.3's 100-slot FIFO send
queues (the model's per-peer queue is always the 1-slot overwrite of 3.4+) and, before
3.6.0, ``checkLeader`` of Step A looking at outofelection (ZOOKEEPER-3537, benign)."""


def preset(version: str, flags: Iterable[str] = ()) -> Variant:
    """The variant of a ZooKeeper release (``PRESETS``) with further pre-fix ``flags`` on
    top; an unknown version or flag is an ``InputError``."""
    if version not in PRESETS:
        raise InputError(f"unknown ZooKeeper version {version!r} "
                         f"(known: {', '.join(PRESETS)})")
    extra = Variant.from_flags(list(flags))
    base = PRESETS[version]
    return replace(base, **{name: True for name in extra.flags()})
