"""The slice of Zab after FLE that decides which leader is really established (§7).

Leader Zab tuple ``(ZR_LEADER, phase, epoch, mask, conn, carried)``: ``conn`` = learners with
a live LearnerHandler in this leadership, ``mask`` = the quorum being collected in this phase
(connecting / electing / NEWLEADER acks; the leader adds itself first, as ``Leader.lead``
calls each wait with its own id, except for NEWLEADER acks, which it joins only after its
``setCurrentEpoch``), ``carried`` = what each counted ACKEPOCH carried, ``(index,
currentEpoch, lastZxid)`` sorted, until establishment copies it into the history record.
Learner tuple ``(ZR_LEARNER, phase, minus1)``.

Step granularity and why it is sound for the properties (no interleaving that changes
persistent state or a quorum decision is lost):

* ``followerinfo``: the learner connects and its FOLLOWERINFO(acceptedEpoch) is handled by
  the leader in one step -- the learner is blocked meanwhile, so its acceptedEpoch cannot
  change; a message lost because the leader quit first is the same as no connection.
* ``leaderinfo``: the learner handles LEADERINFO(e) and answers ACKEPOCH (f3), persisting
  acceptedEpoch; the leader reads that ACKEPOCH in a separate step ``ackepoch`` (L3), so
  "a learner accepted e but the leader never counted it" is reachable.
* ``newleader``: NEWLEADER handled by the learner (sync: lastZxid := leader's; currentEpoch
  := e, ACK sent); ``newleader-ack``: the leader's handler reads that ACK and counts it
  (``waitForNewLeaderAck``). Two steps only when the configuration has a crash budget
  (``FLEModel.split_epoch_steps``): a crash in between leaves a learner with currentEpoch e
  whose ACK never counted. Without crashes they are one step, which keeps the crash-free
  state space as it was (a leader's give-up between them is then not explored; it changes
  no property, only which later elections are reachable). ``uptodate`` is separate because
  it waits for the leader's NEWLEADER quorum.
* The leader's own contribution to the epoch and its own ACKEPOCH are counted when it
  starts (``start_role``); in ZooKeeper a learner may contribute first, which changes
  nothing because the decision needs the leader and max() is commutative.
* Establishment (quorum of ACKEPOCH including the leader, ``waitForEpochAck`` returns)
  appends a history record for the invariants; the leader's ``setCurrentEpoch`` follows in
  ``lead()`` as a step of its own (``setepoch``) when there is a crash budget -- a crash in
  between leaves the old currentEpoch on disk, which changes later elections -- and in the
  same step otherwise (nothing else can tell the two apart: the leader cannot give up in
  between, and no other server reads its currentEpoch). The learners' handlers may already
  send NEWLEADER in between; the leader joins the NEWLEADER quorum only after
  ``setCurrentEpoch``.
* Every failure path goes back to LOOKING (§6): a learner whose leader is gone or whose
  handler died (``lost``, free: the protocol forces it), a leader in broadcast without a
  quorum of live learners (``lost-quorum``, free), and any other give-up of a leader or
  learner (``giveup``, consumes the timeout budget: initLimit/syncLimit expiry).
* In-memory zxid (§2.1, §7): after its NEWLEADER quorum (``startZkServer``) the leader's
  in-memory zxid becomes (epoch, 0) if nothing of the epoch is logged; a learner's sync
  copies the leader's *logged* zxid (DIFF/TRUNC); a restart reloads the disk value
  (``zkcheck.model.state.disk_zxid``). Under ``Variant.zxid_on_disk_only`` one zxid.
* Not modelled: log contents (lastZxid stands for the log); a SNAP sync from a serving
  leader, which would hand the learner the leader's (epoch, 0); the Zab connection failing
  independently of the election links (covered by ``giveup``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zkcheck.model.roleloop import back_to_looking
from zkcheck.model.state import (
    B_TIMEOUT,
    B_WRITE,
    F_AE,
    F_CE,
    F_HWM,
    F_PHASE,
    F_STATE,
    F_VOTE,
    F_ZAB,
    F_ZXID,
    L_BROADCAST,
    L_DISCOVERY,
    L_EPOCH,
    L_SYNC,
    LEADING,
    P_DECIDED,
    P_FINAL,
    P_IDLE,
    P_ROLE,
    P_ROUND,
    Z_ACKED,
    Z_ACKEPOCH,
    Z_ACKSENT,
    Z_CONNECT,
    Z_INFO,
    Z_SERVING,
    Z_SYNC,
    ZR_LEADER,
    ZR_LEARNER,
    disk_zxid,
    set_logged_zxid,
    set_volatile_zxid,
    vote_leader,
    with_epoch,
)

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel


def persist_current_epoch(sl: list, ce: int) -> None:
    """Write currentEpoch (persistent, §2.1) and its high-water mark, which the
    EpochMonotonic invariant compares it with."""
    sl[F_CE] = ce
    hwm: tuple = sl[F_HWM]
    hce: int = hwm[0]
    if ce > hce:
        sl[F_HWM] = (ce,) + hwm[1:]


def persist_accepted_epoch(sl: list, ae: int) -> None:
    """Write acceptedEpoch (persistent, §2.1; creates a missing file) and its high-water
    mark."""
    sl[F_AE] = ae
    hwm: tuple = sl[F_HWM]
    hae: int = hwm[1]
    if ae > hae:
        sl[F_HWM] = (hwm[0], ae) + hwm[2:]


def start_role(m: FLEModel, ns: list, sl: list, k: int, hist: tuple) -> tuple:
    """Start the role after Publish (§6): a leader snapshots its summary, contributes its own
    acceptedEpoch (epoch candidate := acceptedEpoch + 1) and, once decided, its own ACKEPOCH
    (L1-L3); a learner has to connect. Writes ``ns[k]``; returns the (possibly extended)
    establishment history (single-voter ensembles decide at once)."""
    if sl[F_STATE] == LEADING:
        sl[F_ZAB] = (ZR_LEADER, L_DISCOVERY, sl[F_AE] + 1, 1 << k, 0, ())
        ns[k] = tuple(sl)
        return leader_advance(m, ns, k, hist)
    sl[F_ZAB] = (ZR_LEARNER, Z_CONNECT, 0)
    ns[k] = tuple(sl)
    return hist


def leader_advance(m: FLEModel, ns: list, k: int, hist: tuple) -> tuple:
    """Move leader ``k`` through every phase whose quorum is complete (``ns`` mutable).

    * discovery -> epoch decided when ``connecting`` contains the leader and is a quorum:
      acceptedEpoch := epoch (L1, ZOOKEEPER-1270);
    * epoch decided -> established when ``electing`` contains the leader and is a quorum
      (L3): a history record with the leader's (currentEpoch, lastZxid) and what each
      counted ACKEPOCH carried is appended (at once under
      ``Variant.ack_quorum_not_awaited_1191``); then currentEpoch := epoch and the leader
      joins the NEWLEADER acks, here or in ``set_epoch`` (``m.split_epoch_steps``);
    * established -> broadcast when the leader has set currentEpoch and a quorum acked
      NEWLEADER: the published vote's peerEpoch := epoch (L4, ``updateElectionVote``,
      unless ``Variant.no_update_election_vote``).
    """
    s = ns[k]
    z = s[F_ZAB]
    _, phase, epoch, mask, conn, carried = z
    sl = None
    bit = 1 << k
    q = m.zab_quorum
    while True:
        if phase == L_DISCOVERY and mask & bit and q[mask]:
            sl = sl or list(s)
            persist_accepted_epoch(sl, epoch)
            if m.variant.zxid_raised_early_790:
                set_volatile_zxid(sl, epoch * m.zxid_base)
            phase, mask = L_EPOCH, bit
        elif phase == L_EPOCH and (mask & bit and q[mask]
                                   or m.variant.ack_quorum_not_awaited_1191):
            sl = sl or list(s)
            summary = (sl[F_CE], disk_zxid(sl))
            acks = tuple((m.sids[j], ce, zx) for j, ce, zx in carried)
            hist = tuple(sorted(hist + ((epoch, m.sids[k], mask, summary, acks),)))
            phase, mask, carried = L_SYNC, 0, ()
            if not m.split_epoch_steps:
                persist_current_epoch(sl, epoch)  # setCurrentEpoch in the same step
                mask = bit
        elif phase == L_SYNC and mask & bit and m.quorum[mask]:
            sl = sl or list(s)
            if not m.variant.no_update_election_vote:
                sl[F_VOTE] = with_epoch(sl[F_VOTE], epoch)
            if not m.variant.zxid_on_disk_only and sl[F_ZXID] < epoch * m.zxid_base:
                set_volatile_zxid(sl, epoch * m.zxid_base)  # startZkServer
            phase = L_BROADCAST
        else:
            break
    if sl is not None or (phase, mask) != (z[1], z[3]):
        sl = sl or list(s)
        sl[F_ZAB] = (ZR_LEADER, phase, epoch, mask, conn, carried)
        ns[k] = tuple(sl)
    return hist


def _drop_learner(ns: list, lk: int, k: int) -> None:
    """The leader's LearnerHandler for ``k`` dies (socket closed)."""
    ls = ns[lk]
    z = ls[F_ZAB]
    if z is not None and z[0] == ZR_LEADER and z[4] >> k & 1:
        ns[lk] = ls[:F_ZAB] + (z[:4] + (z[4] & ~(1 << k),) + z[5:],) + ls[F_ZAB + 1:]


def set_epoch_pending(z: tuple, k: int) -> bool:
    """Whether leader ``k`` (Zab tuple ``z``) is established but has not yet set its
    currentEpoch (``lead()`` between ``waitForEpochAck`` and ``setCurrentEpoch``)."""
    return z[1] == L_SYNC and not z[3] >> k & 1


def _set_learner(s: tuple, zphase: int, minus1: int = 0) -> tuple:
    return s[:F_ZAB] + ((ZR_LEARNER, zphase, minus1),) + s[F_ZAB + 1:]


def _set_leader(s: tuple, phase: int, epoch: int, mask: int, conn: int,
                carried: tuple = ()) -> tuple:
    return s[:F_ZAB] + ((ZR_LEADER, phase, epoch, mask, conn, carried),) + s[F_ZAB + 1:]


def _next(st: tuple, ns: list, hist: tuple | None = None) -> tuple:
    return (tuple(ns), st[1], st[2], st[3], st[4], st[5] if hist is None else hist)


def _to_looking(s: tuple) -> tuple:
    sl = list(s)
    back_to_looking(sl)
    return tuple(sl)


def leader_may_come(ls: tuple) -> bool:
    """Whether a learner still connecting should keep retrying its leader (state ``ls``):
    the leader is up and still in its election (LOOKING inside or between rounds) or has
    decided to lead without having started yet. ZooKeeper's ``connectToLeader`` retries
    for about initLimit before it gives up, so a follower that decided first does not
    throw its round away; a leader that is down, or decided for someone else, is lost."""
    phase = ls[F_PHASE]
    if phase in (P_IDLE, P_ROUND, P_FINAL):
        return True
    return phase == P_DECIDED and ls[F_STATE] == LEADING


# ---------------------------------------------------------------------------- dispatch


def role_actions(m: FLEModel, st: tuple, k: int, out: list) -> None:
    """Append the enabled Zab actions of server ``k``, which is running a role (phase
    role). A learner's session is alive iff its leader runs as leader and (after connect)
    still has a handler for it; a dead session enables only ``lost``."""
    servers = st[0]
    s = servers[k]
    z = s[F_ZAB]
    tmo = st[3][B_TIMEOUT]
    if z[0] == ZR_LEADER:
        if set_epoch_pending(z, k):
            out.append((m.lbl_setepoch[k], set_epoch(m, st, k)))
            return  # lead() runs straight on to setCurrentEpoch: no give-up in between
        if z[1] == L_BROADCAST:
            if not m.quorum[z[4] | 1 << k]:
                out.append((m.lbl_lostquorum[k], leader_lost_quorum(m, st, k)))
            if st[3][B_WRITE]:
                out.append((m.lbl_write[k], client_write(m, st, k)))
        if tmo:
            out.append((m.lbl_giveup[k], give_up(m, st, k)))
        return
    lk = m.index[vote_leader(s[F_VOTE])]
    ls = servers[lk]
    lz = ls[F_ZAB]
    zph = z[1]
    if ls[F_PHASE] != P_ROLE or ls[F_STATE] != LEADING or (
            zph != Z_CONNECT and not lz[4] >> k & 1):
        if zph == Z_CONNECT and m.fair_timeouts and leader_may_come(ls):
            return  # connectToLeader keeps retrying; ``expire`` ends the wait (initLimit)
        out.append((m.lbl_lost[k], learner_lost(m, st, k)))
        return
    if zph == Z_CONNECT:
        out.append((m.lbl_finfo[k], follower_info(m, st, k, lk)))
    elif zph == Z_INFO:
        if lz[1] >= L_EPOCH:
            out.append((m.lbl_linfo[k], leader_info(m, st, k, lk)))
    elif zph == Z_ACKEPOCH:
        out.append((m.lbl_ackepoch[k], ack_epoch(m, st, k, lk)))
    elif zph == Z_SYNC:
        if lz[1] >= L_SYNC:
            out.append((m.lbl_newleader[k], new_leader(m, st, k, lk)))
    elif zph == Z_ACKSENT:
        out.append((m.lbl_nlack[k], newleader_ack(m, st, k, lk)))
    elif zph == Z_ACKED:
        if lz[1] == L_BROADCAST:
            out.append((m.lbl_uptodate[k], up_to_date(m, st, k, lk)))
    elif s[F_ZXID] < disk_zxid(ls):
        out.append((m.lbl_log[k], learner_log(m, st, k, lk)))
    if tmo:
        out.append((m.lbl_giveup[k], give_up(m, st, k, lk)))


# ---------------------------------------------------------------------------- actions
#
# Guards are evaluated by ``role_actions``; each docstring states them.


def follower_info(m: FLEModel, st: tuple, k: int, lk: int) -> tuple:
    """FollowerInfo(f) (§7 f1-f2, L1). Guard: learner that has not connected yet, its leader
    runs as leader. Effect: the learner connects and sends FOLLOWERINFO(acceptedEpoch); the
    leader's new handler contributes it while the epoch is undecided: candidate :=
    max(candidate, a + 1) (raised only if a > candidate under
    ``Variant.epoch_bump_strict``, ZOOKEEPER-1343), and adds the learner to ``connecting``
    if it is a voter (observers too under ``Variant.observers_in_epoch_quorum``,
    ZOOKEEPER-2959); the epoch is decided when ``connecting`` contains the leader and is a
    quorum. Contributors after the decision just wait for LEADERINFO."""
    servers = st[0]
    s = servers[k]
    ns = list(servers)
    ns[k] = _set_learner(s, Z_INFO)
    ls = servers[lk]
    _, phase, epoch, mask, conn, carried = ls[F_ZAB]
    conn |= 1 << k
    if phase != L_DISCOVERY:
        ns[lk] = _set_leader(ls, phase, epoch, mask, conn, carried)
        return _next(st, ns)
    a = s[F_AE]
    if a > epoch or (a == epoch and not m.variant.epoch_bump_strict):
        epoch = a + 1
    if m.counts_in_epoch[k]:
        mask |= 1 << k
    ns[lk] = _set_leader(ls, phase, epoch, mask, conn)
    return _next(st, ns, leader_advance(m, ns, lk, st[5]))


def leader_info(m: FLEModel, st: tuple, k: int, lk: int) -> tuple:
    """LeaderInfo(f) (§7 f3, L2). Guard: FOLLOWERINFO sent, session alive, the leader's epoch
    e decided. Effect: the handler sends LEADERINFO(e); the learner: e > acceptedEpoch ->
    acceptedEpoch := e (persisted) and ACKEPOCH(currentEpoch, lastZxid); e = acceptedEpoch
    -> ACKEPOCH(-1, lastZxid) ("already acked this epoch, do not count me");
    e < acceptedEpoch -> error, back to LOOKING (and its handler dies). A counted ACKEPOCH
    for e = acceptedEpoch under ``Variant.ack_epoch_twice``."""
    servers = st[0]
    s = servers[k]
    e = servers[lk][F_ZAB][2]
    ns = list(servers)
    ae = s[F_AE]
    if e > ae:
        sl = list(s)
        persist_accepted_epoch(sl, e)
        sl[F_ZAB] = (ZR_LEARNER, Z_ACKEPOCH, 0)
        ns[k] = tuple(sl)
    elif e == ae:
        ns[k] = _set_learner(s, Z_ACKEPOCH, 0 if m.variant.ack_epoch_twice else 1)
    else:
        ns[k] = _to_looking(s)
        _drop_learner(ns, lk, k)
    return _next(st, ns)


def ack_epoch(m: FLEModel, st: tuple, k: int, lk: int) -> tuple:
    """AckEpoch(f) (§7 L3, ``waitForEpochAck``). Guard: ACKEPOCH sent, session alive.
    Effect: the leader's handler reads ACKEPOCH(ce, z) -- the learner's (currentEpoch,
    lastZxid), unchanged since it sent it (it is blocked waiting). While the leader is not
    yet established: ce = -1 -> not counted; (ce, z) more recent than the leader's
    (currentEpoch, lastZxid) -> that handler fails and the learner goes LOOKING (the leader
    does not abdicate); otherwise a voter learner joins ``electing``, the leader keeps
    (learner, ce, z) in ``carried``, and ``electing`` containing the leader and forming a
    quorum establishes the leader. After establishment acks are not checked
    (``electionFinished``). The learner then waits for NEWLEADER."""
    servers = st[0]
    s = servers[k]
    ls = servers[lk]
    _, phase, epoch, mask, conn, carried = ls[F_ZAB]
    ns = list(servers)
    hist = st[5]
    if phase == L_EPOCH and not s[F_ZAB][2]:
        sent = (s[F_CE], s[F_ZXID])
        if ackepoch_rejected(sent, (ls[F_CE], ls[F_ZXID])):
            ns[k] = _to_looking(s)
            _drop_learner(ns, lk, k)
            return _next(st, ns)
        if m.counts_in_epoch[k]:
            carried = tuple(sorted(carried + ((k,) + sent,)))
            ns[lk] = _set_leader(ls, phase, epoch, mask | 1 << k, conn, carried)
            ns[k] = _set_learner(s, Z_SYNC)
            return _next(st, ns, leader_advance(m, ns, lk, hist))
    ns[k] = _set_learner(s, Z_SYNC)
    return _next(st, ns)


def new_leader(m: FLEModel, st: tuple, k: int, lk: int) -> tuple:
    """NewLeader(f) (§7 f4, L4). Guard: ACKEPOCH read, session alive, the leader established.
    Effect: the handler syncs the learner (lastZxid := the leader's, standing for
    DIFF/TRUNC/SNAP) and sends NEWLEADER(e); the learner sets currentEpoch := e and ACKs
    (``Variant.current_epoch_on_uptodate_1282``: it ACKs without setting it). The leader
    counts the ACK in ``newleader_ack``, a step of its own under ``m.split_epoch_steps`` (a
    crash budget), else at once."""
    servers = st[0]
    s = servers[k]
    epoch = servers[lk][F_ZAB][2]
    ns = list(servers)
    sl = list(s)
    set_logged_zxid(sl, disk_zxid(servers[lk]))
    if not m.variant.current_epoch_on_uptodate_1282:
        persist_current_epoch(sl, epoch)
    sl[F_ZAB] = (ZR_LEARNER, Z_ACKSENT, 0)
    ns[k] = tuple(sl)
    after = _next(st, ns)
    return newleader_ack(m, after, k, lk) if not m.split_epoch_steps else after


def newleader_ack(m: FLEModel, st: tuple, k: int, lk: int) -> tuple:
    """NewLeaderAck(f) (§7 L4, ``waitForNewLeaderAck``). Guard: the learner's ACK of
    NEWLEADER sent, session alive. Effect: the leader's handler reads it; while the leader
    is in sync a voter's ACK joins the NEWLEADER quorum, which (once the leader itself set
    currentEpoch and joined) moves the leader to broadcast. The learner waits for
    UPTODATE."""
    servers = st[0]
    ls = servers[lk]
    _, phase, epoch, mask, conn, carried = ls[F_ZAB]
    ns = list(servers)
    ns[k] = _set_learner(servers[k], Z_ACKED)
    if phase == L_SYNC and m.voter[k]:
        ns[lk] = _set_leader(ls, phase, epoch, mask | 1 << k, conn, carried)
        return _next(st, ns, leader_advance(m, ns, lk, st[5]))
    return _next(st, ns)


def set_epoch(m: FLEModel, st: tuple, k: int) -> tuple:
    """SetEpoch(l) (§7 L3, ``lead()`` after ``waitForEpochAck``). Guard: established, not yet
    set (only reachable under ``m.split_epoch_steps``). Effect: currentEpoch := epoch
    (persisted) and the leader joins the NEWLEADER acks (``waitForNewLeaderAck`` with its
    own id); a quorum of acks already there moves it to broadcast."""
    servers = st[0]
    s = servers[k]
    _, phase, epoch, mask, conn, carried = s[F_ZAB]
    sl = list(s)
    persist_current_epoch(sl, epoch)
    sl[F_ZAB] = (ZR_LEADER, phase, epoch, mask | 1 << k, conn, carried)
    ns = list(servers)
    ns[k] = tuple(sl)
    return _next(st, ns, leader_advance(m, ns, k, st[5]))


def ackepoch_rejected(sent: tuple, leader: tuple) -> bool:
    """The leader's ACKEPOCH check (``waitForEpochAck``): an ACKEPOCH whose (currentEpoch,
    lastZxid) is lexicographically more recent than the leader's fails its handler. A
    module-level function so that a test can seed the bug of skipping it."""
    return sent > leader


def up_to_date(m: FLEModel, st: tuple, k: int, lk: int) -> tuple:
    """UpToDate(f) (§7 f4). Guard: NEWLEADER acked, session alive, the leader in broadcast.
    Effect: the learner serves and refreshes its published vote's peerEpoch := e
    (``updateElectionVote``, ZOOKEEPER-1732; not under ``Variant.no_update_election_vote``);
    round and zxid of the vote stay. Under ``Variant.current_epoch_on_uptodate_1282`` the
    learner writes currentEpoch := e here (ZOOKEEPER-1282)."""
    servers = st[0]
    s = servers[k]
    sl = list(s)
    if m.variant.current_epoch_on_uptodate_1282:
        persist_current_epoch(sl, servers[lk][F_ZAB][2])
    if not m.variant.no_update_election_vote:
        sl[F_VOTE] = with_epoch(sl[F_VOTE], servers[lk][F_ZAB][2])
    sl[F_ZAB] = (ZR_LEARNER, Z_SERVING, 0)
    ns = list(servers)
    ns[k] = tuple(sl)
    return _next(st, ns)


def learner_log(m: FLEModel, st: tuple, k: int, lk: int) -> tuple:
    """LearnerLog(f). Guard: serving, session alive, the leader logged newer transactions.
    Effect: lastZxid := the leader's. With ClientWrite this lets zxids diverge."""
    servers = st[0]
    ns = list(servers)
    sl = list(servers[k])
    set_logged_zxid(sl, disk_zxid(servers[lk]))
    ns[k] = tuple(sl)
    return _next(st, ns)


def learner_lost(m: FLEModel, st: tuple, k: int) -> tuple:
    """LearnerLost(f) (§7 f1, f5; §6). Guard: the learner's leader does not run as leader
    (down, LOOKING, decided but not started, following someone else) or no longer has a
    handler for it. Effect: connecting failed or the connection broke; back to LOOKING.
    Free: the protocol forces it, no timeout budget is used."""
    ns = list(st[0])
    ns[k] = _to_looking(ns[k])
    return _next(st, ns)


def leader_lost_quorum(m: FLEModel, st: tuple, k: int) -> tuple:
    """LeaderLostQuorum(l) (§7 L4, "losing quorum later -> LOOKING"). Guard: in broadcast,
    and the voters with a live handler plus the leader are no longer a quorum. Effect: the
    leader steps down to LOOKING. Free."""
    ns = list(st[0])
    ns[k] = _to_looking(ns[k])
    return _next(st, ns)


def give_up(m: FLEModel, st: tuple, k: int, lk: int | None = None) -> tuple:
    """GiveUp(i) (§7 "any timeout/IO error -> LOOKING"; §10 "a leader may give up whenever
    ...; a follower may give up at any time"). Guard: running a role (a learner: with a live
    session) and timeout budget left. Effect: back to LOOKING, one timeout consumed; a
    learner closes its connection, so its leader's handler for it dies."""
    after = give_up_effect(m, st, k, lk)
    b = st[3]
    nb = b[:B_TIMEOUT] + (b[B_TIMEOUT] - 1,) + b[B_TIMEOUT + 1:]
    return (after[0], st[1], st[2], nb, st[4], st[5])


def give_up_effect(m: FLEModel, st: tuple, k: int, lk: int | None) -> tuple:
    """State after server ``k`` abandons its role (no budget touched): back to LOOKING; a
    learner (leader index ``lk``) closes its connection, so the handler for it dies."""
    ns = list(st[0])
    if lk is not None:
        _drop_learner(ns, lk, k)
    ns[k] = _to_looking(ns[k])
    return (tuple(ns),) + st[1:]


def client_write(m: FLEModel, st: tuple, k: int) -> tuple:
    """ClientWrite(l) (§7, last bullet). Guard: leader in broadcast, client-write budget
    left. Effect: the leader logs a new transaction: lastZxid := (epoch, counter + 1), the
    first of an epoch being (epoch, 1)."""
    s = st[0][k]
    base = s[F_ZAB][2] * m.zxid_base
    zx = s[F_ZXID]
    ns = list(st[0])
    sl = list(s)
    set_logged_zxid(sl, zx + 1 if zx >= base else base + 1)
    ns[k] = tuple(sl)
    b = st[3]
    nb = b[:B_WRITE] + (b[B_WRITE] - 1,) + b[B_WRITE + 1:]
    return (tuple(ns), st[1], st[2], nb, st[4], st[5])
