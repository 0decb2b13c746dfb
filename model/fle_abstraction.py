"""The abstraction function from the explicit FLE model to the abstract discovery system.

``abstract_state(m, st)`` maps a state of ``FLEModel`` (election, connection layer, Zab
discovery and sync, crashes) to a state of ``DiscoveryModel`` (see
``model/discovery_abstract.py``):

* a server whose role is running (phase ``role``) keeps its role: a leader its Zab phase
  (discovery / epoch decided / established, where sync and broadcast both count as
  established), candidate epoch, connecting or electing set and live handlers; a learner
  its leader and Zab phase (NEWLEADER acked and serving both count as synced);
* every other server (down, idle, in a round, finalizing, decided but not yet published)
  is LOOKING with its persistent acceptedEpoch and currentEpoch;
* the establishment history keeps (epoch, leader).

Everything else (rounds, votes, queues, channels, links, zxids, budgets) is forgotten.

**Refinement claim** (tested exhaustively on small configurations in
``tests/test_leadership_abstraction.py``): for every transition s -> t of the explicit model,
``abstract_state(t)`` equals ``abstract_state(s)`` (a stutter: election, network and fault
steps that start no role and touch no epoch; restart; uptodate; client writes) or is a
successor of ``abstract_state(s)`` in the abstract model (publish -> lead/follow,
followerinfo, leaderinfo, ackepoch, newleader, and lost/giveup/lost-quorum/crash -> quit).
With ``abstract_state(initial)`` an abstract initial state, every explicit run maps to an
abstract run with the same establishment history, so a property of histories proven for
all abstract runs (Leadership) holds for all explicit runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zkcheck.model.discovery_abstract import (
    FOLLOWING,
    FP_ACK,
    FP_ACK_M1,
    FP_CONNECT,
    FP_INFO,
    FP_SYNC,
    FP_SYNCED,
    LEADING,
    LOOKING_FIELDS,
    LP_DISC,
    LP_EPOCH,
    LP_ESTAB,
    NO_LEADER,
)
from zkcheck.model.state import (
    F_AE,
    F_CE,
    F_PHASE,
    F_STATE,
    F_VOTE,
    F_ZAB,
    H_EPOCH,
    H_LEADER,
    L_BROADCAST,
    L_DISCOVERY,
    L_EPOCH,
    L_SYNC,
    P_ROLE,
    Z_ACKED,
    Z_ACKEPOCH,
    Z_ACKSENT,
    Z_CONNECT,
    Z_INFO,
    Z_SERVING,
    Z_SYNC,
    ZR_LEADER,
    vote_leader,
)
from zkcheck.model.state import (
    FOLLOWING as FLE_FOLLOWING,
)
from zkcheck.model.state import (
    LEADING as FLE_LEADING,
)

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel

_LEADER_PHASE = {L_DISCOVERY: LP_DISC, L_EPOCH: LP_EPOCH, L_SYNC: LP_ESTAB,
                 L_BROADCAST: LP_ESTAB}
_LEARNER_PHASE = {Z_CONNECT: FP_CONNECT, Z_INFO: FP_INFO, Z_SYNC: FP_SYNC,
                  Z_ACKSENT: FP_SYNCED, Z_ACKED: FP_SYNCED, Z_SERVING: FP_SYNCED}


def abstract_server(m: FLEModel, s: tuple) -> tuple:
    """One server's abstract tuple (see the module docstring)."""
    ae, ce = s[F_AE], s[F_CE]
    if s[F_PHASE] != P_ROLE:
        return LOOKING_FIELDS + (ae, ce) + NO_LEADER
    z = s[F_ZAB]
    if s[F_STATE] == FLE_LEADING:
        if z is None or z[0] != ZR_LEADER:
            raise ValueError("a LEADING server in role phase without leader Zab state")
        phase, epoch, mask, conn = z[1:5]
        lph = _LEADER_PHASE[phase]
        return (LEADING, -1, 0, ae, ce, lph, epoch, 0 if lph == LP_ESTAB else mask, conn)
    if s[F_STATE] != FLE_FOLLOWING:
        raise ValueError("observers are not part of the abstract model (voters only)")
    phase = z[1]
    if phase == Z_ACKEPOCH:
        fph = FP_ACK_M1 if z[2] else FP_ACK
    else:
        fph = _LEARNER_PHASE[phase]
    return (FOLLOWING, m.index[vote_leader(s[F_VOTE])], fph, ae, ce) + NO_LEADER


def abstract_state(m: FLEModel, st: tuple) -> tuple:
    """The abstract state of an explicit FLE state (``DiscoveryModel`` layout)."""
    if m.config.observers:
        raise ValueError("observers are not part of the abstract model (voters only)")
    servers = tuple(abstract_server(m, s) for s in st[0])
    hist = tuple(sorted({(h[H_EPOCH], m.index[h[H_LEADER]]) for h in st[5]}))
    return (servers, hist)
