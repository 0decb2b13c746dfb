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
    timeout budget spent while one of its send queues is free (§5.3, ``haveDelivered``),
    **and**, with ``Bounds.fair_timeouts``, the run took a fault (a budget was used, or
    there are late starters).

With ``fair_timeouts`` a stuck run is not a pass: without a fault a quorum is up
throughout, every due timeout fires (``zkcheck.model.expiry``) and a learner waits for a
leader that is still coming (``zkcheck.model.zab.leader_may_come``), so a correct
election establishes a leader in the next round; a run the round bound stops without one
is a violation -- a wrong vote order that keeps electing a server whose ACKEPOCH check
fails, or a leader stuck in discovery by ZOOKEEPER-1343, is caught this way.

Nothing else is excused: a deadlock in which no bound blocks anyone (e.g. the joiner of
ZOOKEEPER-2164 whose send queues stay full) is a violation, and so is every fair cycle,
also one that happens to pass excused-looking states (only deadlocks are excused). Role
give-ups at any moment are faults (unfair, budgeted); with ``fair_timeouts`` the
initLimit/syncLimit and poll timeouts that fire once nothing else moves are not
(``zkcheck.model.expiry``), so a leader waiting for an ACKEPOCH that never counts gives
up and the run goes on, while a leader stuck in discovery for good is still a violation
(ZOOKEEPER-1343). Whether the excuse was used in a run is visible through the witness
``BoundStall``: "witness not found" means the liveness verdict is unconditional for the
explored configuration; "witness found" means it holds (or is violated) for runs the
bounds did not cut short, and the trace shows such a cut.
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

LIVENESS_GOALS = ("EventuallyElected", "JoinerEventuallyJoins")
LIVENESS_NAMES = LIVENESS_GOALS + ("BoundStall",)


def live_sessions(m: FLEModel, state: tuple, lk: int) -> int:
    """Index mask of the learners of leader ``lk`` whose session is live on *both* ends:
    the leader has a handler for it, and the learner itself is up, running as a learner
    and following ``lk`` -- a handler the leader forgot to drop (after a crash) does not
    count."""
    servers = state[0]
    conn = servers[lk][F_ZAB][4]
    sid = m.sids[lk]
    mask = 0
    for k, s in enumerate(servers):
        z = s[F_ZAB]
        if (conn >> k & 1 and s[F_PHASE] == P_ROLE and z is not None and z[0] == ZR_LEARNER
                and vote_leader(s[F_VOTE]) == sid):
            mask |= 1 << k
    return mask


def established_leaders(m: FLEModel, state: tuple) -> list[int]:
    """Indices of servers leading an established epoch (§7 L3 done) with a quorum of voters
    (the leader included) holding a live session with it (``live_sessions``)."""
    out = []
    for k, s in enumerate(state[0]):
        z = s[F_ZAB]
        if (s[F_PHASE] == P_ROLE and z is not None and z[0] == ZR_LEADER and z[1] >= L_SYNC
                and m.quorum[live_sessions(m, state, k) | 1 << k]):
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


def fault_taken(m: FLEModel, state: tuple) -> bool:
    """Whether the run took a fault or an environment step (some budget is below its
    initial value) or has late starters (see ``excused``)."""
    return state[3] != m.initial_budget or bool(m.config.late)


def excused(m: FLEModel, state: tuple) -> bool:
    """A bound stall counts as reaching a liveness goal only after a fault, which may
    have used up the rounds (see the module docstring)."""
    return blocked_by_bound(m, state) and (not m.fair_timeouts or fault_taken(m, state))


def quorum_can_be_up(m: FLEModel, state: tuple) -> bool:
    """The liveness assumption (§8.3: "a quorum of alive, connected servers"): the voters
    that are up or still to boot form a quorum. Only a restart (a fault, which a run need
    not take) could give a leader to a run that stays without one; such runs are not
    judged (``Property.assume``)."""
    late = state[T_LATE]
    mask = 0
    for k in m.voter_idx:
        if state[0][k][F_PHASE] != P_DOWN or late >> k & 1:
            mask |= 1 << k
    return m.verifier.is_quorum_mask(sum(1 << m.sids[k] for k in range(m.n) if mask >> k & 1))


def elected(m: FLEModel, state: tuple) -> bool:
    """Goal of EventuallyElected (§8.3 item 6)."""
    return bool(established_leaders(m, state)) or excused(m, state)


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
    return excused(m, state)


def liveness_properties(m: FLEModel) -> list[Property]:
    """EventuallyElected, JoinerEventuallyJoins and the BoundStall witness for a model."""
    return [
        liveness(
            "EventuallyElected", lambda st: elected(m, st),
            "EventuallyElected (§8.3 item 6): every weakly fair run eventually reaches a "
            "state in which some server leads an established epoch (a quorum acknowledged "
            "it, §7 L3) and a quorum of voters, the leader included, hold a live session "
            "with it, provided the voters up (or still to boot) are a quorum. Judged by "
            "default with initLimit/syncLimit/poll timeouts fair, so a run stuck without a "
            "leader fails it; only a run a bound stops after a fault (max-round, timeout "
            "budget) is not judged: see BoundStall. Catches vote cycles (ZOOKEEPER-1419), stuck "
            "discoveries (ZOOKEEPER-1343) and vote orders that keep electing the wrong "
            "server.", assume=lambda st: quorum_can_be_up(m, st)),
        liveness(
            "JoinerEventuallyJoins", lambda st: joined(m, st),
            "JoinerEventuallyJoins (§8.3 item 7): every weakly fair run eventually reaches a "
            "state in which an established leader with a quorum (as in EventuallyElected) "
            "has every voter that is up or still to boot as a connected learner (crashed "
            "servers are exempt: restarts are faults), provided a quorum of voters is up "
            "or still to boot. Timeouts and bounds as in EventuallyElected. Catches "
            "joiners that never join (ZOOKEEPER-1732, -2164).",
            assume=lambda st: quorum_can_be_up(m, st)),
        witness(
            "BoundStall", lambda st: blocked_by_bound(m, st),
            "BoundStall: a deadlock reached only because a bound (max-round, the timeout "
            "budget) blocks a server that ZooKeeper would let go on. The liveness "
            "properties count such states as reaching their goal, so 'witness found' "
            "qualifies their verdicts: they hold for the runs the bounds did not cut "
            "short."),
    ]
