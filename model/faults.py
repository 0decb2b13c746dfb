"""Crash, restart and late start of a server (§4.4 "Process crash", §2).

A crash loses all volatile state of the process (election state, Zab state, its send
queues, ``lastMessageSent``, its connections and everything in flight to or from it) and
keeps the persistent state (currentEpoch, acceptedEpoch, lastZxid). Peers keep their send
queue and ``last`` message for the crashed server, so after the restart it receives the
newest message queued for it, or the last one sent before the crash: stale deliveries are
normal behaviour, not a fault-injection artefact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from zkcheck.model.state import (
    B_CRASH,
    B_RESTART,
    F_AE,
    F_CE,
    F_HWM,
    F_PHASE,
    F_VOTE,
    F_ZAB,
    F_ZXID,
    LOOKING,
    P_DOWN,
    P_IDLE,
    Z_CONNECT,
    ZR_LEARNER,
    accepted_epoch_missing,
    disk_zxid,
    pack_key,
    pack_vote,
    vote_leader,
)

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel

INITIAL_PROPOSAL: Final = pack_key(-1, -1, 0)
"""``proposedLeader = -1, proposedZxid = -1`` and ``proposedEpoch`` 0 as a new FLE object
starts (§2.2); replaced at the first StartRound."""


def down_server(m: FLEModel, s: tuple) -> tuple:
    """The canonical tuple of a server whose process is not running: persistent fields
    kept, volatile fields at fixed values (so equal persistent states give equal states);
    the in-memory zxid falls back to the disk value (§7), the acceptedEpoch to -1 if its
    file is missing."""
    hwm: tuple = s[F_HWM]
    ae: int = -1 if accepted_epoch_missing(s) else s[F_AE]
    return (P_DOWN, LOOKING, 0, None, None, (), m.empty_votes, m.empty_votes, None, None,
            s[F_CE], ae, disk_zxid(s), (hwm[0], hwm[1]), None)


def booted_server(m: FLEModel, s: tuple, k: int) -> tuple:
    """A freshly started process (§2.2): LOOKING, logicalclock 0, the initial proposal,
    currentVote = (sid, lastZxid, round -1, currentEpoch), empty queues; it still has to
    call ``lookForLeader`` (StartRound)."""
    return (P_IDLE, LOOKING, 0, INITIAL_PROPOSAL, pack_vote(LOOKING, m.sids[k], s[F_ZXID], -1,
                                                            s[F_CE]), (),
            m.empty_votes, m.empty_votes, None, None, s[F_CE], s[F_AE], s[F_ZXID], s[F_HWM],
            None)


def start_process(m: FLEModel, s: tuple, k: int) -> tuple | None:
    """A down server ``s`` starts (Boot, Restart): ``loadDataBase`` reads the epoch files
    (§2.1) and gives the booted process (``booted_server``), or the down server after a
    start that failed, or None for a start that fails and changes nothing. A start fails
    when acceptedEpoch < currentEpoch on disk (ZooKeeper throws) or when the last zxid's
    epoch z exceeds currentEpoch. A missing acceptedEpoch file (``accepted_epoch_missing``)
    defaults to z: 3.8 writes z into the acceptedEpoch file, so if currentEpoch > z the
    start fails now and every later one too. Under
    ``Variant.accepted_epoch_into_current_file_1387`` z is written into the *currentEpoch*
    file and the acceptedEpoch file stays missing: the start fails (acceptedEpoch z <
    currentEpoch read before), but the next one reads currentEpoch z and succeeds --
    currentEpoch went back (ZOOKEEPER-1387)."""
    ce: int = s[F_CE]
    z: int = s[F_ZXID] // m.zxid_base
    if z > ce:
        return None
    if not accepted_epoch_missing(s):
        return booted_server(m, s, k) if s[F_AE] >= ce else None
    sl = list(s)
    if m.variant.accepted_epoch_into_current_file_1387:
        sl[F_CE] = z  # the acceptedEpoch default lands in the currentEpoch file
    else:
        hwm: tuple = s[F_HWM]
        sl[F_HWM] = (hwm[0], z) + hwm[2:]  # the acceptedEpoch file is written
    sl[F_AE] = z
    if z < ce:
        if m.variant.accepted_epoch_into_current_file_1387:
            sl[F_AE] = -1  # still no acceptedEpoch file
        return tuple(sl)
    return booted_server(m, tuple(sl), k)


def servers_after_start(m: FLEModel, servers: tuple, k: int) -> tuple | None:
    """``servers`` after server ``k`` starts (``start_process``; Boot and Restart), or
    None for a start that fails and changes nothing."""
    started = start_process(m, servers[k], k)
    if started is None:
        return None
    ns = list(servers)
    ns[k] = started
    return tuple(ns)


def crash_effect(m: FLEModel, st: tuple, k: int) -> tuple:
    """State after server ``k`` crashes (budget not touched); acceptedEpoch falls back to
    currentEpoch under ``Variant.accepted_epoch_lost_on_crash``."""
    servers, chans = st[0], st[1]
    s = servers[k]
    ns = list(servers)
    z = s[F_ZAB]
    if z is not None and z[0] == ZR_LEARNER and z[1] != Z_CONNECT:
        lk = m.index[vote_leader(s[F_VOTE])]
        ls = ns[lk]
        lz = ls[F_ZAB]
        if lz is not None and lz[0] != ZR_LEARNER and lz[4] >> k & 1:
            ns[lk] = ls[:F_ZAB] + (lz[:4] + (lz[4] & ~(1 << k),) + lz[5:],) + ls[F_ZAB + 1:]
    if m.variant.accepted_epoch_lost_on_crash:
        s = s[:F_AE] + (s[F_CE],) + s[F_AE + 1:]
    ns[k] = down_server(m, s)
    nc = list(chans)
    for ci in m.out_chans[k]:
        nc[ci] = (None, (), None)
    for ci in m.in_chans[k]:
        c = nc[ci]
        if c[1]:
            nc[ci] = (c[0], (), c[2])
    return (tuple(ns), tuple(nc), st[2] & ~m.links_of[k], st[3], st[4], st[5])


def gen_crash(m: FLEModel, st: tuple, out: list) -> None:
    """Crash(i) (§4.4, §4.5): a running server stops; see the module docstring. Guard: the
    server is up and crash budget is left."""
    budget: tuple = st[3]
    if not budget[B_CRASH]:
        return
    nb = budget[:B_CRASH] + (budget[B_CRASH] - 1,) + budget[B_CRASH + 1:]
    servers: tuple = st[0]
    for k, s in enumerate(servers):
        if s[F_PHASE] == P_DOWN:
            continue
        after = crash_effect(m, st, k)
        out.append((m.lbl_crash[k], after[:3] + (nb,) + after[4:]))


def gen_restart(m: FLEModel, st: tuple, out: list) -> None:
    """Restart(i) (§4.4): a crashed server starts again with its persistent state (a new
    FLE object: logicalclock 0). Its connections are down; peers' queued and last messages
    for it are delivered once a connection comes up. Guard: down, not a late starter that
    never booted, restart budget left."""
    budget: tuple = st[3]
    if not budget[B_RESTART]:
        return
    late = st[4]
    nb = budget[:B_RESTART] + (budget[B_RESTART] - 1,) + budget[B_RESTART + 1:]
    servers: tuple = st[0]
    for k, s in enumerate(servers):
        if s[F_PHASE] != P_DOWN or late >> k & 1:
            continue
        after = servers_after_start(m, servers, k)
        if after is not None:
            out.append((m.lbl_restart[k], (after, st[1], st[2], nb, late, st[5])))


def gen_boot(m: FLEModel, st: tuple, out: list) -> None:
    """Boot(i): a late starter starts for the first time (configuration ``late``; not a
    restart, no budget). Same effect as Restart (a start that fails leaves it down, no
    longer late)."""
    late = st[4]
    if not late:
        return
    servers: tuple = st[0]
    for k in range(len(servers)):
        if not late >> k & 1:
            continue
        after = servers_after_start(m, servers, k)
        if after is not None:
            out.append((m.lbl_boot[k], (after, st[1], st[2], st[3], late & ~(1 << k), st[5])))
