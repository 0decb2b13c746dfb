"""Layout of the compact FLE state, and its readable view.

A state is a nested tuple of small ints, ``None`` and tuples, so that it hashes, compares
and marshals fast, and a step rebuilds only the components it changes (the others are
shared with the predecessor):

``(servers, chans, links, budget, late, hist)``

* ``servers``: one tuple per server, in configuration order (index ``k``), fields ``F_*``.
* ``chans``: ``n*n`` entries, index ``i*n + j`` for the ordered pair i -> j (``None`` on
  the diagonal): ``(outbox, wire, last)`` with ``outbox`` a message or ``None`` (the
  1-slot send queue, §4.2), ``wire`` a tuple of messages in flight, ``last`` the
  ``lastMessageSent`` (or ``None``).
* ``links``: bit mask over unordered pairs (``pair_bit``): 1 = the TCP connection is up.
* ``budget``: remaining ``(crashes, restarts, link_failures, timeouts, client_writes,
  reconnects)``.
* ``late``: bit mask of late starters (by index) that have not booted yet.
* ``hist``: history for the invariants, a sorted tuple of establishment records
  ``(epoch, leader_sid, acked_mask, summary, carried)`` (see ``H_*``): ``acked_mask`` the
  ``electing`` quorum (indices), ``summary`` the leader's (currentEpoch, logged lastZxid)
  when it established (unchanged since it started leading), ``carried`` what the counted ACKEPOCH
  of each other member of that quorum carried when the leader read it: a sorted tuple of
  ``(sid, currentEpoch, lastZxid)`` (copied from the leader's Zab tuple, see ``L_*``).

Votes and messages are packed into one int, a *vote word* (``pack_vote``), because a state
holds dozens of them and an int is one marshal item of 5 bytes where a 5-tuple is 30:
bits 0-1 state, 2-7 round+1, 8-13 leader+1, 14-27 zxid+1, 28+ peerEpoch+1. Hence
``word >> KEY_SHIFT`` orders votes exactly like ``(peerEpoch, zxid, leader)``, the vote
order of §3.3, and equalities of §3.2 are masked comparisons. Where a vote is used:

* a notification (§3.1, the sender is the channel): a full word;
* a recvqueue entry: ``word << 6 | sender index``;
* recvset/outofelection entry (stored ``Vote``): a full word; in recvset a FOLLOWING/
  LEADING entry is one recorded by Step A, i.e. version 0 (§5.4);
* proposal: the key ``(peerEpoch, zxid, leader)`` only (``word >> KEY_SHIFT``);
* currentVote and the result vote: a word with state bits 0 (LOOKING, unused).

Sids appear in message fields (``leader``); indices (0..n-1) address servers and masks
(bit ``1 << k``), because that is what the tables are built on.
"""

from __future__ import annotations

from typing import Any, Final

# server states (§3.1 codes)
LOOKING: Final = 0
FOLLOWING: Final = 1
LEADING: Final = 2
OBSERVING: Final = 3
STATE_NAMES = ("LOOKING", "FOLLOWING", "LEADING", "OBSERVING")

# election-loop phase of a server
P_DOWN: Final = 0  # process not running (crashed, or late starter not yet booted)
P_IDLE: Final = 1  # LOOKING, about to call lookForLeader (needs StartRound, §5.2)
P_ROUND: Final = 2  # inside lookForLeader, polling recvqueue
P_FINAL: Final = 3  # quorum reached, finalize wait (§5.4)
P_DECIDED: Final = 4  # lookForLeader returned, result not yet published (§5.5)
P_ROLE: Final = 5  # result published; running as follower/leader/observer (§6, §7)
PHASE_NAMES = ("down", "idle", "round", "finalizing", "decided", "role")

# server tuple fields
F_PHASE: Final = 0
F_STATE: Final = 1
F_CLOCK: Final = 2  # logicalclock
F_PROP: Final = 3  # proposal key (peerEpoch, zxid, leader)
F_VOTE: Final = 4  # currentVote, published (vote word)
F_QUEUE: Final = 5  # recvqueue
F_RECV: Final = 6  # recvset: tuple over indices of None | vote word
F_OOE: Final = 7  # outofelection: same shape
F_RESULT: Final = 8  # vote word returned by lookForLeader, published by Publish
F_DEC: Final = 9  # decision evidence (kind, support_mask, clock_before) or None
F_CE: Final = 10  # currentEpoch (persistent)
F_AE: Final = 11  # acceptedEpoch (persistent)
F_ZXID: Final = 12  # in-memory last processed zxid (encoded); see disk_zxid
F_HWM: Final = 13  # (max currentEpoch, max acceptedEpoch) ever written[, disk zxid]: see disk_zxid;
# max acceptedEpoch -1: the acceptedEpoch file is missing (see accepted_epoch_missing)
F_ZAB: Final = 14  # Zab sub-state: None, follower (Z_*), or leader (L_*) tuple
N_FIELDS: Final = 15
F_REPLY: Final = 15
"""Optional 16th field, present only while the WorkerReceiver has a reply in hand (with
``Bounds.nonatomic_replies``, §5.1): a *pending reply* ``(word << 2 | flags) <<
SENDER_BITS | recipient``, flags ``R_CLOCK`` and ``R_BUILT`` (see
``zkcheck.model.election.receive``). Absent otherwise, so that states without a pending
reply keep the 15-field encoding."""
R_CLOCK: Final = 1
"""Pending-reply flag: the reply's round is logicalclock (read with the state), not the
round of the vote read."""
R_BUILT: Final = 2
"""Pending-reply flag: every field has been read, ``word`` is the whole message, only the
send (``sendqueue.offer``) is left."""
REPLY_SHIFT: Final = 8
"""Shift of the vote word in a pending reply (6 recipient bits, 2 flag bits)."""

# decision kinds (F_DEC[0])
D_LOOKING: Final = 0
D_STEP_A: Final = 1
D_STEP_B: Final = 2
DEC_NAMES = ("quorum of LOOKING votes", "Step A", "Step B")

# learner Zab tuple: (role, phase, minus1)
ZR_LEARNER: Final = 0
ZR_LEADER: Final = 1
# learner phases (§7 follower f1-f4)
Z_CONNECT: Final = 0  # has to connect and send FOLLOWERINFO
Z_INFO: Final = 1  # FOLLOWERINFO sent, waiting for LEADERINFO
Z_ACKEPOCH: Final = 2  # ACKEPOCH sent (minus1 says whether it was -1), not yet read by the leader
Z_SYNC: Final = 3  # ACKEPOCH read, waiting for NEWLEADER
Z_ACKSENT: Final = 4  # NEWLEADER handled (currentEpoch set), ACK sent, not yet read (crashes)
Z_ACKED: Final = 5  # NEWLEADER handled (currentEpoch set), ACK read, waiting for UPTODATE
Z_SERVING: Final = 6  # UPTODATE received, vote refreshed
Z_NAMES = ("connect", "followerinfo-sent", "ackepoch-sent", "syncing", "newleader-ack-sent",
           "newleader-acked", "serving")
# leader Zab tuple: (ZR_LEADER, phase, epoch, mask, conn, carried); ``carried``: per counted
# ACKEPOCH of a learner, (index, currentEpoch, lastZxid) it carried, sorted; () once established
L_DISCOVERY: Final = 1  # collecting FOLLOWERINFO; epoch = candidate, mask = connecting
L_EPOCH: Final = 2  # epoch decided; mask = electing (ACKEPOCH)
L_SYNC: Final = 3  # established; mask = NEWLEADER acks, the leader's bit once it set
# currentEpoch (with a crash budget that is a step of its own, see zkcheck.model.zab)
L_BROADCAST: Final = 4  # quorum acked NEWLEADER; serving
L_NAMES = ("", "discovery", "epoch-decided", "established", "broadcast")

# budget tuple indices
B_CRASH: Final = 0
B_RESTART: Final = 1
B_LINK: Final = 2
B_TIMEOUT: Final = 3
B_WRITE: Final = 4
B_RECONNECT: Final = 5

# history record fields
H_EPOCH: Final = 0
H_LEADER: Final = 1
H_ACKED: Final = 2
H_SUMMARY: Final = 3
H_CARRIED: Final = 4

# top-level indices
T_SERVERS: Final = 0
T_CHANS: Final = 1
T_LINKS: Final = 2
T_BUDGET: Final = 3
T_LATE: Final = 4
T_HIST: Final = 5

NO_VOTE_ROUND: Final = -1
"""Round of a vote built without one (the boot vote, §2.2; the pre-1818 result vote)."""

# vote word layout
ROUND_SHIFT: Final = 2
LEADER_SHIFT: Final = 8
ZXID_SHIFT: Final = 14
EPOCH_SHIFT: Final = 28
KEY_SHIFT: Final = LEADER_SHIFT
STATE_MASK: Final = 0b11
ROUND_BITS: Final = 0b111111 << ROUND_SHIFT
LEADER_BITS: Final = 0b111111 << LEADER_SHIFT
VOTE_BITS: Final = ~STATE_MASK  # leader, zxid, round, peerEpoch: the LOOKING equality of §3.2
SENDER_BITS: Final = 6
MAX_WORD_ZXID = (1 << (EPOCH_SHIFT - ZXID_SHIFT)) - 2
MAX_WORD_FIELD: Final = 62  # round, leader sid and peerEpoch


def pack_vote(state: int, leader: int, zxid: int, rnd: int, pe: int) -> int:
    """The vote word of (state, leader, zxid, round, peerEpoch); -1 is allowed in the last
    four (the boot vote's round, the observer's minimum vote)."""
    return (state | (rnd + 1) << ROUND_SHIFT | (leader + 1) << LEADER_SHIFT
            | (zxid + 1) << ZXID_SHIFT | (pe + 1) << EPOCH_SHIFT)


def unpack_vote(word: int) -> tuple[int, int, int, int, int]:
    """(state, leader, zxid, round, peerEpoch) of a vote word."""
    return (word & STATE_MASK, (word >> LEADER_SHIFT & 63) - 1,
            (word >> ZXID_SHIFT & 0x3FFF) - 1, (word >> ROUND_SHIFT & 63) - 1,
            (word >> EPOCH_SHIFT) - 1)


def pack_key(leader: int, zxid: int, pe: int) -> int:
    """The proposal key of (leader, zxid, peerEpoch): ``pack_vote(...) >> KEY_SHIFT``."""
    return (leader + 1) | (zxid + 1) << (ZXID_SHIFT - KEY_SHIFT) | (pe + 1) << (
        EPOCH_SHIFT - KEY_SHIFT)


def unpack_key(key: int) -> tuple[int, int, int]:
    """(leader, zxid, peerEpoch) of a proposal key."""
    _, leader, zxid, _, pe = unpack_vote(key << KEY_SHIFT)
    return leader, zxid, pe


def vote_leader(word: int) -> int:
    return (word >> LEADER_SHIFT & 63) - 1


def vote_round(word: int) -> int:
    return (word >> ROUND_SHIFT & 63) - 1


def vote_epoch(word: int) -> int:
    return (word >> EPOCH_SHIFT) - 1


def with_round(word: int, rnd: int) -> int:
    return word & ~ROUND_BITS | (rnd + 1) << ROUND_SHIFT


def with_epoch(word: int, pe: int) -> int:
    return word & ((1 << EPOCH_SHIFT) - 1) | (pe + 1) << EPOCH_SHIFT


def key_to_vote(key: int, rnd: int, state: int = 0) -> int:
    """The vote word of a proposal key in round ``rnd``."""
    return key << KEY_SHIFT | (rnd + 1) << ROUND_SHIFT | state


def queue_entry(sender: int, word: int) -> int:
    return word << SENDER_BITS | sender


def disk_zxid(s: tuple | list) -> int:
    """The lastZxid on disk of server tuple ``s`` (§7, in-memory zxid). ``F_ZXID`` is the
    in-memory last processed zxid, which votes, FOLLOWERINFO/ACKEPOCH and the leader's
    summary use; it differs from the disk value only after a leader's ``startZkServer``
    set it to (epoch, 0) without logging anything. Then, and only then, ``F_HWM`` carries
    the disk value as a third component, so that states without a difference keep the
    encoding they had before the distinction was modelled."""
    hwm: tuple = s[F_HWM]
    if len(hwm) > 2:
        disk: int = hwm[2]
        return disk
    mem: int = s[F_ZXID]
    return mem


def accepted_epoch_missing(s: tuple | list) -> bool:
    """Whether the acceptedEpoch file of server ``s`` is missing (an upgrade from 3.3 or a
    lost file, ``ModelConfig.missing_accepted_epoch``; ZOOKEEPER-1387): nothing has been
    written to it since, so its high-water mark in ``F_HWM`` is -1. A running server keeps
    the acceptedEpoch it holds in memory (``F_AE``); a down one has ``F_AE`` -1."""
    hwm: tuple = s[F_HWM]
    hae: int = hwm[1]
    return hae < 0


def set_volatile_zxid(sl: list, zxid: int) -> None:
    """Set the in-memory zxid of server fields ``sl`` without writing the disk."""
    hwm: tuple = sl[F_HWM]
    disk: int = hwm[2] if len(hwm) > 2 else sl[F_ZXID]
    sl[F_ZXID] = zxid
    sl[F_HWM] = (hwm[0], hwm[1]) if disk == zxid else (hwm[0], hwm[1], disk)


def set_logged_zxid(sl: list, zxid: int) -> None:
    """Log (or sync) up to ``zxid``: in-memory and disk values become ``zxid``."""
    hwm: tuple = sl[F_HWM]
    sl[F_ZXID] = zxid
    if len(hwm) > 2:
        sl[F_HWM] = (hwm[0], hwm[1])


def pending_reply(s: tuple) -> int | None:
    """The pending WorkerReceiver reply of server tuple ``s`` (``F_REPLY``), or None."""
    if len(s) > N_FIELDS:
        entry: int = s[F_REPLY]
        return entry
    return None


def replace_field(t: tuple, index: int, value: Any) -> tuple:
    """``t`` with one component replaced (structural sharing for the rest)."""
    return t[:index] + (value,) + t[index + 1:]


def pair_bit(i: int, j: int, n: int) -> int:
    """Bit of the unordered pair {i, j} (indices) in the ``links`` mask."""
    if i > j:
        i, j = j, i
    return 1 << (i * n + j)


def _mask_sids(mask: int, sids: tuple[int, ...]) -> list[int]:
    return [sid for k, sid in enumerate(sids) if mask >> k & 1]


def describe_state(state: tuple, sids: tuple[int, ...], zxid_text: Any) -> dict[str, Any]:
    """A readable view: one dict per server, the channels that hold something, the links,
    the remaining budgets and the establishment history."""
    servers, chans, links, budget, late, hist = state
    n = len(sids)

    def msg(w: int | None) -> str | None:
        if w is None:
            return None
        st, leader, zxid, rnd, pe = unpack_vote(w)
        return (f"{STATE_NAMES[st]}(leader {leader}, zxid {zxid_text(zxid)}, round {rnd}, "
                f"epoch {pe})")

    def vote(w: int | None) -> str | None:
        if w is None:
            return None
        _, leader, zxid, rnd, pe = unpack_vote(w)
        return f"(leader {leader}, zxid {zxid_text(zxid)}, round {rnd}, epoch {pe})"

    def stored(w: int | None) -> str | None:
        return msg(w)

    def key(k: int) -> str:
        leader, zxid, pe = unpack_key(k)
        return f"(leader {leader}, zxid {zxid_text(zxid)}, epoch {pe})"

    view: dict[str, Any] = {"servers": {}}
    for k, s in enumerate(servers):
        sid = sids[k]
        entry: dict[str, Any] = {
            "phase": PHASE_NAMES[s[F_PHASE]],
            "currentEpoch": s[F_CE],
            "acceptedEpoch": s[F_AE],
            "lastZxid": zxid_text(s[F_ZXID]),
        }
        if s[F_PHASE] == P_DOWN:
            entry["late (not booted)"] = bool(late >> k & 1)
        else:
            entry.update({
                "state": STATE_NAMES[s[F_STATE]],
                "logicalclock": s[F_CLOCK],
                "proposal": key(s[F_PROP]),
                "currentVote": vote(s[F_VOTE]),
                "recvqueue": [f"from {sids[e & 63]}: {msg(e >> SENDER_BITS)}"
                              for e in s[F_QUEUE]],
                "recvset": {sids[j]: stored(v) for j, v in enumerate(s[F_RECV])
                            if v is not None},
                "outofelection": {sids[j]: stored(v) for j, v in enumerate(s[F_OOE])
                                  if v is not None},
            })
            if s[F_RESULT] is not None:
                entry["result"] = vote(s[F_RESULT])
            if len(s) > N_FIELDS:
                r = s[F_REPLY]
                if r >> SENDER_BITS & R_BUILT:
                    entry["reply to send"] = f"to {sids[r & 63]}: {msg(r >> REPLY_SHIFT)}"
                else:
                    when = ("logicalclock and state" if r >> SENDER_BITS & R_CLOCK
                            else "state")
                    entry["reply being built"] = (f"to {sids[r & 63]}: "
                                                  f"{vote(r >> REPLY_SHIFT)}, {when} to read")
            if s[F_DEC] is not None:
                kind, mask, clock = s[F_DEC]
                entry["decided by"] = (f"{DEC_NAMES[kind]}, support {_mask_sids(mask, sids)}, "
                                       f"clock before {clock}")
            z = s[F_ZAB]
            if z is not None and z[0] == ZR_LEARNER:
                entry["zab"] = Z_NAMES[z[1]] + (" (-1)" if z[2] else "")
            elif z is not None:
                ph, epoch, mask, conn = z[1:5]
                entry["zab"] = (f"{L_NAMES[ph]} epoch {epoch}, quorum-so-far "
                                f"{_mask_sids(mask, sids)}, learners {_mask_sids(conn, sids)}")
        view["servers"][sid] = entry
    channels = {}
    for i in range(n):
        for j in range(n):
            c = chans[i * n + j]
            if c is None or (c[0] is None and not c[1] and c[2] is None):
                continue
            channels[f"{sids[i]}->{sids[j]}"] = {
                "outbox": msg(c[0]), "wire": [msg(m) for m in c[1]], "last": msg(c[2])}
    view["channels"] = channels
    view["links up"] = [f"{sids[i]}-{sids[j]}" for i in range(n) for j in range(i + 1, n)
                        if links & pair_bit(i, j, n)]
    view["budget left"] = dict(zip(("crashes", "restarts", "link failures", "timeouts",
                                    "client writes", "reconnects"), budget, strict=True))
    view["established"] = [
        {"epoch": h[H_EPOCH], "leader": h[H_LEADER], "acked by": _mask_sids(h[H_ACKED], sids)}
        for h in hist]
    return view
