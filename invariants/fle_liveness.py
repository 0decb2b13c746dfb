"""Liveness properties of the FLE model (fle-semantics.md §8.3 items 6 and 7).

Both are "eventually goal" properties, checked by ``zkcheck.explorer.liveness`` on a
complete state graph under weak fairness (classes in ``zkcheck.model.fairness``): a
violation is a fair run that never reaches the goal -- a lasso (prefix + fair loop) or a
run that ends in a deadlock.

Bounds and liveness. The model is finite because of bounds, and a bound can end a run
that ZooKeeper would continue: a server whose logicalclock reached ``max_round`` cannot
start another round, and with the ``timeouts`` budget spent a server polling an empty
queue can no longer re-broadcast (ZooKeeper's poll timeout fires forever). Such a run
stops in a deadlock that says nothing about the protocol. A state is therefore counted as
reaching the goal ("excused") when

    it is a deadlock (no action enabled at all) and some up server is blocked only by a
    bound: LOOKING between rounds at ``max_round``, or polling an empty queue with the
    timeout budget spent while one of its send queues is free (§5.3, ``haveDelivered``).

Nothing else is excused: a deadlock in which no bound blocks anyone (e.g. the joiner of
ZOOKEEPER-2164 whose send queues stay full) is a violation, and so is every fair cycle,
also one that happens to pass excused-looking states (only deadlocks are excused). Role
give-ups are faults (unfair, budgeted) and are never excused: a leader stuck in discovery
for good is a violation (ZOOKEEPER-1343). Whether the excuse was used in a run is visible
through the witness ``BoundStall``: "witness not found" means the liveness verdict is
unconditional for the explored configuration; "witness found" means it holds (or is
violated) for runs the bounds did not cut short, and the trace shows such a cut.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zkcheck.explorer.model import Property, liveness, witness
from zkcheck.model.election import have_delivered
from zkcheck.model.state import (
    B_TIMEOUT,
    F_CLOCK,
    F_PHASE,
    F_QUEUE,
    F_VOTE,
    F_ZAB,
    L_SYNC,
    P_DECIDED,
    P_DOWN,
    P_FINAL,
    P_IDLE,
    P_ROLE,
    P_ROUND,
    T_LATE,
    Z_INFO,
    ZR_LEADER,
    ZR_LEARNER,
    vote_leader,
)

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel

LIVENESS_NAMES = ("EventuallyElected", "JoinerEventuallyJoins", "BoundStall")


def established_leaders(m: FLEModel, state: tuple) -> list[int]:
    """Indices of servers leading an established epoch (§7 L3 done) with a quorum of voters
    (the leader included) holding a live session with it."""
    out = []
    for k, s in enumerate(state[0]):
        z = s[F_ZAB]
        if (s[F_PHASE] == P_ROLE and z is not None and z[0] == ZR_LEADER and z[1] >= L_SYNC
                and m.quorum[z[4] | 1 << k]):
            out.append(k)
    return out


def blocked_by_bound(m: FLEModel, state: tuple) -> bool:
    """Some up server is blocked only by a bound (see the module docstring) and no action
    is enabled at all."""
    servers: tuple = state[0]
    # cheap exits first (evaluated on every stored state): a server-local step that the
    # model's guards enable (FLEModel.actions) or a message in flight means no deadlock
    s: tuple
    for s in servers:
        phase: int = s[F_PHASE]
        if (phase == P_FINAL or phase == P_DECIDED or (phase == P_ROUND and s[F_QUEUE])
                or (phase == P_IDLE and s[F_CLOCK] < m.max_round)):
            return False
    if not m.recv_capacity:
        chans: tuple = state[1]
        c: tuple | None
        for c in chans:
            if c is not None and c[1]:
                return False
    no_timeouts = not (state[3][B_TIMEOUT] or m.free_timeouts)
    for k, s in enumerate(servers):
        phase = s[F_PHASE]
        if phase == P_IDLE and s[F_CLOCK] >= m.max_round:
            break
        if (phase == P_ROUND and no_timeouts and not s[F_QUEUE]
                and have_delivered(m, state, k)):
            break
    else:
        return False
    return not m.actions(state)


def elected(m: FLEModel, state: tuple) -> bool:
    """Goal of EventuallyElected (§8.3 item 6)."""
    return bool(established_leaders(m, state)) or blocked_by_bound(m, state)


def joined(m: FLEModel, state: tuple) -> bool:
    """Goal of JoinerEventuallyJoins (§8.3 item 7)."""
    servers = state[0]
    late = state[T_LATE]
    for lk in established_leaders(m, state):
        conn = servers[lk][F_ZAB][4]
        leader_sid = m.sids[lk]
        for k in m.voter_idx:
            if k == lk:
                continue
            s = servers[k]
            if s[F_PHASE] == P_DOWN:
                if late >> k & 1:
                    break  # a configured server that has not started yet has not joined
                continue  # crashed: restarts are faults, it may stay down
            z = s[F_ZAB]
            if not (s[F_PHASE] == P_ROLE and z is not None and z[0] == ZR_LEARNER
                    and z[1] >= Z_INFO and conn >> k & 1
                    and vote_leader(s[F_VOTE]) == leader_sid):
                break
        else:
            return True
    return blocked_by_bound(m, state)


def liveness_properties(m: FLEModel) -> list[Property]:
    """EventuallyElected, JoinerEventuallyJoins and the BoundStall witness for a model."""
    return [
        liveness(
            "EventuallyElected", lambda st: elected(m, st),
            "EventuallyElected (§8.3 item 6): every weakly fair run eventually reaches a "
            "state in which some server leads an established epoch (a quorum acknowledged "
            "it, §7 L3) and a quorum of voters, the leader included, hold a live session "
            "with it. Runs that a bound stops (max-round, timeout budget) are not judged: "
            "see BoundStall. Catches vote cycles (ZOOKEEPER-1419) and stuck discoveries "
            "(ZOOKEEPER-1343)."),
        liveness(
            "JoinerEventuallyJoins", lambda st: joined(m, st),
            "JoinerEventuallyJoins (§8.3 item 7): every weakly fair run eventually reaches a "
            "state in which an established leader with a quorum (as in EventuallyElected) "
            "has every voter that is up or still to boot as a connected learner (crashed "
            "servers are exempt: restarts are faults). Runs that a bound stops are not "
            "judged: see BoundStall. Catches joiners that never join (ZOOKEEPER-1732, "
            "-2164)."),
        witness(
            "BoundStall", lambda st: blocked_by_bound(m, st),
            "BoundStall: a deadlock reached only because a bound (max-round, the timeout "
            "budget) blocks a server that ZooKeeper would let go on. The liveness "
            "properties count such states as reaching their goal, so 'witness found' "
            "qualifies their verdicts: they hold for the runs the bounds did not cut "
            "short."),
    ]
