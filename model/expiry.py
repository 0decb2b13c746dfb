"""Timeouts that always fire once progress stops (initLimit, syncLimit, the poll timeout).

In ZooKeeper these timeouts are not faults: a leader still waiting for its quorum after
initLimit ticks gives up, a learner that hears nothing within initLimit/syncLimit gives
up, and ``lookForLeader`` re-broadcasts every time its poll of an empty queue times out.
The budgeted ``timeout``/``giveup`` actions let them fire at *any* moment, which safety
needs (a timeout may race anything) but which must stay bounded for the state space to be
finite. Liveness needs the other half: a timeout that stays due is eventually taken.

``expire S,T,..`` is that half: one free action, enabled only when no fair action is
enabled anywhere (the system is quiet -- "progress stopped"), so that it adds transitions
only out of states that were stuck, in which every due timeout of the listed servers fires
(one action, not one per server: a fair run that reaches a quiet state has no other
choice than to take it, so no fairness assumption is needed for it to happen). The
effect per server is the timeout's:

* a LOOKING server polling an empty queue with a free send slot re-broadcasts its
  proposal (§5.3, no budget used);
* a leader not yet in broadcast (waiting for FOLLOWERINFO, ACKEPOCH or NEWLEADER acks)
  goes back to LOOKING (initLimit); its learners then find their session gone;
* a learner that is not yet serving -- still trying to connect to a leader that has not
  started leading (``zab.leader_may_come``), or syncing -- goes back to LOOKING and closes
  its connection (initLimit/syncLimit).

All due timeouts fire in the one step, role timeouts (initLimit/syncLimit, seconds) with
poll re-broadcasts: the poll interval backs off to a minute, so while servers keep
polling, a waiting leader's initLimit runs out in between, and a poll loop cannot keep it
from firing. Exception: a learner still connecting to a leader whose own poll is due, in
the round the learner decided in, waits: that poll (milliseconds) comes long before its
initLimit and draws the answer that lets the leader decide. Serving learners and a leader
in broadcast have no due timeout (their heartbeats flow);
a server LOOKING between rounds at ``max_round`` is stopped by the round bound, which
stays a bound (``BoundStall``): then nothing expires at all, since the stalled server would
queue every re-broadcast without ever processing it (an unbounded queue).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zkcheck.model.election import broadcast, have_delivered
from zkcheck.model.fairness import UNFAIR
from zkcheck.model.network import connect_all
from zkcheck.model.state import (
    F_CLOCK,
    F_PHASE,
    F_QUEUE,
    F_VOTE,
    F_ZAB,
    L_BROADCAST,
    P_IDLE,
    P_ROLE,
    P_ROUND,
    Z_CONNECT,
    Z_SERVING,
    ZR_LEADER,
    vote_leader,
    vote_round,
)

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel


def quiet(out: list) -> bool:
    """No weakly fair action among the enabled ones (only faults and environment
    choices, or nothing at all)."""
    for label, _ in out:
        if label.split(" ", 1)[0] not in UNFAIR:
            return False
    return True


def gen_expiry(m: FLEModel, st: tuple, out: list) -> None:
    """Append ``expire S`` for every server with a due timeout, if the state is quiet."""
    if not quiet(out):
        return
    for s in st[0]:
        if s[F_PHASE] == P_IDLE:
            return  # only the round bound stops an idle server: a bound stall, not a timeout
    from zkcheck.model.zab import give_up_effect, set_epoch_pending

    servers = st[0]
    due = []
    connecting = []  # Variant.have_delivered_all_empty_4605: connectAll instead
    for k, s in enumerate(servers):
        if s[F_PHASE] == P_ROUND and not s[F_QUEUE]:
            if have_delivered(m, st, k):
                due.append(k)
            elif m.variant.have_delivered_all_empty_4605 and connect_all(m, st, k) is not None:
                connecting.append(k)
    polling = set(due)
    for k, s in enumerate(servers):
        if s[F_PHASE] != P_ROLE:
            continue
        z = s[F_ZAB]
        if z[0] == ZR_LEADER:
            if z[1] < L_BROADCAST and not set_epoch_pending(z, k):
                due.append(k)
        elif z[1] < Z_SERVING and not _leader_coming(m, servers, s, polling):
            due.append(k)
    if not due and not connecting:
        return
    due.sort()
    ns = list(servers)
    nc = list(st[1])
    after = st
    for k in due:
        if k in polling:
            sl = list(ns[k])
            broadcast(m, sl, k, nc)
            ns[k] = tuple(sl)
    after = (tuple(ns), tuple(nc)) + st[2:]
    for k in connecting:
        after = connect_all(m, after, k, charge=False) or after
    for k in due:
        if k not in polling:
            s = after[0][k]
            lk = None if s[F_ZAB][0] == ZR_LEADER else m.index[vote_leader(s[F_VOTE])]
            after = give_up_effect(m, after, k, lk)
    out.append((_label(m, sorted(due + connecting)), after))


def _leader_coming(m: FLEModel, servers: tuple, s: tuple, polling: set[int]) -> bool:
    """A connecting learner (state ``s``) whose leader polls in the round the learner
    decided in: the leader's re-broadcast draws the learner's answer, which confirms the
    leader in its own round (§5.4 Step A), so the leader is about to come. Not under
    ``Variant.following_ignored_480``: there the answer confirms nothing, the poll interval
    backs off past initLimit and the learner's own timeout fires."""
    if m.variant.following_ignored_480:
        return False
    lk = m.index[vote_leader(s[F_VOTE])]
    return (s[F_ZAB][1] == Z_CONNECT and lk in polling
            and servers[lk][F_CLOCK] == vote_round(s[F_VOTE]))


def _label(m: FLEModel, ks: list[int]) -> str:
    return "expire " + ",".join(str(m.sids[k]) for k in ks)
