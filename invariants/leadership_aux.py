"""Auxiliary invariants that make Leadership inductive on the abstract discovery system.

Leadership alone is not inductive: a state with a "poisoned" follower (say, one that
acknowledged epoch E to two leaders) satisfies it but leads to a violation in one step. The
invariants below, all over the symbolic state of ``leadership_z3`` with the symbolic epoch
E and the ghost ``ack[f]`` ("the leader to which f raised its acceptedEpoch from below E to
E", -1 none), rule such unreachable states out. Together with Leadership they are
1-inductive: true initially and preserved by every action (``leadership_induction``).

Why they imply Leadership: an established leader l had a quorum of servers with
``ack = l`` (EstablishedHadAckQuorum); ``ack`` is one value per server, so the ack quorums
of two different leaders of E would be disjoint, and quorums intersect.

Each entry is (name, formula builder, why); a failed induction step names the entry that
broke, so a user can see which argument is missing or wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import z3

from zkcheck.invariants.leadership_z3 import Encoding, Sym
from zkcheck.model.discovery_abstract import (
    FOLLOWING,
    FP_ACK,
    FP_CONNECT,
    FP_INFO,
    FP_SYNCED,
    LEADING,
    LOOKING,
    LP_DISC,
    LP_EPOCH,
    LP_ESTAB,
    LP_NONE,
)


@dataclass(frozen=True)
class Aux:
    name: str
    formula: Callable[[Encoding, Sym], z3.BoolRef]
    why: str


def _all(n: int, f: Callable[[int], z3.BoolRef]) -> z3.BoolRef:
    return z3.And([f(k) for k in range(n)])


def _pairs(n: int, f: Callable[[int, int], z3.BoolRef]) -> z3.BoolRef:
    return z3.And([f(k, lk) for k in range(n) for lk in range(n) if k != lk])


def well_formed(enc: Encoding, s: Sym) -> z3.BoolRef:
    n = enc.n

    def server(k: int) -> z3.BoolRef:
        no_leader = z3.And(s.lph[k] == LP_NONE, s.le[k] == 0,
                           *[z3.Not(s.mask[k][f]) for f in range(n)],
                           *[z3.Not(s.conn[k][f]) for f in range(n)])
        return z3.And(
            0 <= s.ce[k],
            z3.Or(s.ack[k] == -1, z3.And(0 <= s.ack[k], s.ack[k] < n)),
            z3.Implies(s.role[k] == LOOKING, z3.And(s.lead[k] == -1, s.fph[k] == 0, no_leader)),
            z3.Implies(s.role[k] == FOLLOWING, z3.And(
                0 <= s.lead[k], s.lead[k] < n, s.lead[k] != k,
                FP_CONNECT <= s.fph[k], s.fph[k] <= FP_SYNCED, no_leader)),
            z3.Implies(s.role[k] == LEADING, z3.And(
                s.lead[k] == -1, s.fph[k] == 0, LP_DISC <= s.lph[k], s.lph[k] <= LP_ESTAB,
                z3.Implies(s.lph[k] == LP_ESTAB,
                           z3.And([z3.Not(s.mask[k][f]) for f in range(n)])))),
            z3.Or(s.role[k] == LOOKING, s.role[k] == FOLLOWING, s.role[k] == LEADING))
    return _all(n, server)


def epoch_order(enc: Encoding, s: Sym) -> z3.BoolRef:
    return enc.epoch_order(s)


def acked_has_accepted(enc: Encoding, s: Sym) -> z3.BoolRef:
    return _all(enc.n, lambda f: z3.Implies(s.ack[f] != -1, s.ae[f] >= enc.E))


def candidate_above_leader(enc: Encoding, s: Sym) -> z3.BoolRef:
    return _all(enc.n, lambda lk: z3.Implies(
        z3.And(s.role[lk] == LEADING, s.lph[lk] == LP_DISC), s.le[lk] > s.ae[lk]))


def decided_epoch_accepted(enc: Encoding, s: Sym) -> z3.BoolRef:
    return _all(enc.n, lambda lk: z3.Implies(
        z3.And(s.role[lk] == LEADING, s.lph[lk] >= LP_EPOCH), s.ae[lk] == s.le[lk]))


def electing_acked_for_leader(enc: Encoding, s: Sym) -> z3.BoolRef:
    return _all(enc.n, lambda lk: z3.Implies(
        z3.And(s.role[lk] == LEADING, s.lph[lk] == LP_EPOCH, s.le[lk] == enc.E),
        z3.And([z3.Implies(s.mask[lk][f], s.ack[f] == lk) for f in range(enc.n)])))


def handlers_are_followers(enc: Encoding, s: Sym) -> z3.BoolRef:
    return _pairs(enc.n, lambda f, lk: z3.Implies(s.conn[lk][f], z3.And(
        s.role[f] == FOLLOWING, s.lead[f] == lk, s.fph[f] >= FP_INFO)))


def _live_after(enc: Encoding, s: Sym, f: int, lk: int, phase: int) -> z3.BoolRef:
    return z3.And(s.role[f] == FOLLOWING, s.lead[f] == lk, enc.alive(s, f, lk),
                  s.fph[f] >= phase)


def session_after_decision(enc: Encoding, s: Sym) -> z3.BoolRef:
    return _pairs(enc.n, lambda f, lk: z3.Implies(
        _live_after(enc, s, f, lk, FP_ACK),
        z3.And(s.lph[lk] >= LP_EPOCH, s.ae[f] >= s.le[lk])))


def pending_ack_for_leader(enc: Encoding, s: Sym) -> z3.BoolRef:
    return _pairs(enc.n, lambda f, lk: z3.Implies(
        z3.And(_live_after(enc, s, f, lk, FP_ACK), s.fph[f] == FP_ACK, s.le[lk] == enc.E),
        s.ack[f] == lk))


def established_had_ack_quorum(enc: Encoding, s: Sym) -> z3.BoolRef:
    return _all(enc.n, lambda lk: z3.Implies(
        s.est[lk], enc.quorum([s.ack[f] == lk for f in range(enc.n)])))


def leadership(enc: Encoding, s: Sym) -> z3.BoolRef:
    return enc.leadership(s)


AUX: tuple[Aux, ...] = (
    Aux("WellFormed", well_formed,
        "roles, phases and indices are in range, epochs are >= 0; a LOOKING server has no "
        "follower or leader state, a follower none of a leader; an established leader keeps "
        "no mask"),
    Aux("EpochOrder", epoch_order,
        "currentEpoch <= acceptedEpoch on every server (ZooKeeper refuses to start "
        "otherwise)"),
    Aux("AckedHasAcceptedEpoch", acked_has_accepted,
        "a server that acknowledged epoch E (raised acceptedEpoch to E) has acceptedEpoch "
        ">= E: acceptedEpoch never decreases, so it cannot acknowledge E a second time"),
    Aux("CandidateAboveLeader", candidate_above_leader,
        "while discovering, the leader's candidate epoch exceeds its own acceptedEpoch (it "
        "contributed first, ZOOKEEPER-1270, and the candidate only grows): the decision "
        "raises the leader's acceptedEpoch, it is the leader's own first acknowledgement"),
    Aux("DecidedEpochAccepted", decided_epoch_accepted,
        "once its epoch is decided, the leader's acceptedEpoch is that epoch"),
    Aux("ElectingAckedForLeader", electing_acked_for_leader,
        "every member of a leader's electing set for epoch E acknowledged E to that leader "
        "(the leader itself at its decision, a follower at LEADERINFO)"),
    Aux("HandlersAreFollowers", handlers_are_followers,
        "a leader has a live handler only for servers that follow it and have sent "
        "FOLLOWERINFO"),
    Aux("SessionAfterDecision", session_after_decision,
        "a follower past LEADERINFO in a live session has a leader whose epoch is decided "
        "(so it no longer changes) and has acceptedEpoch >= that epoch"),
    Aux("PendingAckForLeader", pending_ack_for_leader,
        "a counted ACKEPOCH in flight for epoch E, in a live session, comes from a follower "
        "that acknowledged E to that leader"),
    Aux("EstablishedHadAckQuorum", established_had_ack_quorum,
        "a leader that established epoch E has a quorum of servers that acknowledged E to "
        "it"),
    Aux("Leadership", leadership,
        "the property: no two different leaders established epoch E (E is arbitrary)"),
)

NAMES = tuple(a.name for a in AUX)
