"""Fast Leader Election proper: the WorkerReceiver and the ``lookForLeader`` loop (§5).

Each action is one function ``action(m, st, k) -> successor`` for server index ``k``; its
docstring names the rule and states the guard, which ``FLEModel.actions`` evaluates. The
helpers before them are rule effects shared by several actions. Votes and messages are
vote words (``zkcheck.model.state.pack_vote``).

Decisions written down here (where the notes leave a question):

* ``recvset``/``outofelection`` are locals of one ``lookForLeader`` call: they are cleared
  when it returns (decision) and at StartRound, so no dead data is kept in decided states.
  What the invariants need from the decision is recorded as ``F_DEC`` evidence:
  (kind, mask of voters whose stored vote matched the decided vote, logicalclock before
  the decision).
* The observer's minimum initial vote (Long.MIN_VALUE) is represented as -1 in all three
  fields (proposal key 0); real zxids and epochs are >= 0 so every real vote is better.
  ZOOKEEPER-261's "drop votes with zxid -1" never fires (no server has zxid -1) and is not
  modelled.
* Messages of a sender that is not a voter never reach ``Process``: rule 5.1.3 answers
  them in the WorkerReceiver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from zkcheck.model.state import (
    B_TIMEOUT,
    D_LOOKING,
    D_STEP_A,
    D_STEP_B,
    EPOCH_SHIFT,
    F_CLOCK,
    F_DEC,
    F_OOE,
    F_PHASE,
    F_PROP,
    F_QUEUE,
    F_RECV,
    F_RESULT,
    F_STATE,
    F_VOTE,
    FOLLOWING,
    KEY_SHIFT,
    LEADER_BITS,
    LEADER_SHIFT,
    LEADING,
    LOOKING,
    NO_VOTE_ROUND,
    OBSERVING,
    P_DECIDED,
    P_FINAL,
    P_ROLE,
    P_ROUND,
    R_BUILT,
    R_CLOCK,
    REPLY_SHIFT,
    ROUND_SHIFT,
    SENDER_BITS,
    STATE_MASK,
    VOTE_BITS,
    key_to_vote,
    vote_round,
)
from zkcheck.model.zab import start_role

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel


# ---------------------------------------------------------------------------- helpers

LEADER_EPOCH_BITS: Final = LEADER_BITS | ~((1 << EPOCH_SHIFT) - 1)
"""Mask of a vote word's leader and peerEpoch: the equality of two FOLLOWING/LEADING votes
of the same version (§3.2)."""


RAW_RECV_CAPACITY: Final = 100
"""Messages a server's raw receive queue holds (QuorumCnxManager, §4.3): when it is full the
oldest is dropped. The model merges that queue with the election's recvqueue, so a LOOKING
server's recvqueue never holds more; reached only by a reply ping-pong that the election
loop does not drain (an observer and a voter in an older round answer each other forever,
§5.1 rules 2-3), which it keeps finite. Below the capacity nothing changes."""


def receive(m: FLEModel, s: tuple, k: int, i: int, msg: int) -> tuple[tuple, int | None]:
    """WorkerReceiver step at server ``k`` (state ``s``) for ``msg`` from server ``i``
    (§5.1), up to the reads it makes when the message arrives. Returns the new server
    tuple and the *pending reply* for ``i`` (or None): what the receiver read so far
    (``pending``); ``complete_reply`` reads the rest and gives the message to queue.

    1. sender not a voter (an observer): reply (currentVote.id, currentVote.zxid,
       logicalclock, own state, currentVote.peerEpoch); nothing is queued (rule 3);
    2. receiver LOOKING: append to recvqueue; if the message is LOOKING from an older round,
       reply with the receiver's proposal, logicalclock and state (help the laggard);
    3. receiver not LOOKING: answer a LOOKING sender with the published vote (its own round,
       or logicalclock under ``Variant.reply_round_logicalclock``) and its state; drop the
       rest.

    The vote (currentVote, or the proposal) is read here; logicalclock and the state
    later. ZooKeeper reads them one after the other and queues the reply afterwards, so
    with ``Bounds.nonatomic_replies`` the rest is done by later steps of their own
    (``network.gen_reply``: ``build K->I`` reads logicalclock and the state, ``reply
    K->I`` reads what is left and queues the reply); without it ``network.gen_deliver``
    completes the reply at once.
    """
    if not m.voter[i]:
        return s, pending(s[F_VOTE], True, i)
    if s[F_STATE] == LOOKING:
        queue: tuple = s[F_QUEUE]
        if len(queue) >= RAW_RECV_CAPACITY:
            queue = queue[1:]  # the raw receive queue is full: its oldest message is dropped
        ns = s[:F_QUEUE] + (queue + (msg << SENDER_BITS | i,),) + s[F_QUEUE + 1:]
        if msg & STATE_MASK == LOOKING and vote_round(msg) < s[F_CLOCK]:
            return ns, pending(s[F_PROP] << KEY_SHIFT, True, i)
        return ns, None
    if msg & STATE_MASK == LOOKING:
        return s, pending(s[F_VOTE], m.variant.reply_round_logicalclock, i)
    return s, None


def pending(word: int, round_at_send: bool, recipient: int) -> int:
    """A pending reply (``state.F_REPLY``): the vote read (``word``, state bits 0), whether
    the reply's round is logicalclock (``R_CLOCK``; else the vote's own round), and the
    recipient's index."""
    return (word << 2 | (R_CLOCK if round_at_send else 0)) << SENDER_BITS | recipient


def complete_reply(s: tuple, entry: int) -> int:
    """The reply message of pending reply ``entry`` at server ``s``: the vote read at
    delivery with logicalclock (if the reply takes it) and the state read now; a built
    reply (``R_BUILT``) as it was built."""
    word = entry >> REPLY_SHIFT
    flags = entry >> SENDER_BITS
    if flags & R_BUILT:
        return word
    if flags & R_CLOCK:
        return with_round_state(word, s[F_CLOCK], s[F_STATE])
    return word | s[F_STATE]


def built_reply(s: tuple, entry: int) -> int:
    """Pending reply ``entry`` with every field read now (``R_BUILT``), not yet sent."""
    return complete_reply(s, entry) << REPLY_SHIFT | R_BUILT << SENDER_BITS | entry & 63


def with_round_state(word: int, rnd: int, state: int) -> int:
    """``word`` (state bits 0) with its round replaced and the given state."""
    return (word & ~(63 << ROUND_SHIFT)) | (rnd + 1) << ROUND_SHIFT | state


def broadcast(m: FLEModel, sl: list, k: int, nc: list) -> None:
    """``sendNotifications`` (§5.2): queue (LOOKING, proposal, logicalclock) for every voter
    other than ``k`` (overwriting) and, if ``k`` is a voter, deliver it to itself through the
    loopback (appended to its own recvqueue). ``sl`` is ``k``'s server fields as a list,
    ``nc`` a mutable copy of the channels."""
    word = key_to_vote(sl[F_PROP], sl[F_CLOCK], LOOKING)
    msg: object = word  # boxed once: compiled, every store of an int would box a new copy
    c: tuple
    for ci in m.bcast_chans[k]:
        c = nc[ci]
        nc[ci] = (msg, c[1], c[2])
    if m.voter[k]:
        sl[F_QUEUE] = sl[F_QUEUE] + (word << SENDER_BITS | k,)


def looking_support(m: FLEModel, recv: tuple, target: int) -> int:
    """Mask of voters whose recvset vote equals ``target`` as a LOOKING vote: leader, zxid,
    round and peerEpoch all equal (§3.2, §5.4 termination test)."""
    mask = 0
    target &= VOTE_BITS
    v: int | None
    for j in m.voter_idx:
        v = recv[j]
        if v is not None and v & VOTE_BITS == target:
            mask |= 1 << j
    return mask


def decide(m: FLEModel, sl: list, k: int, result: int, dec: tuple) -> None:
    """``setPeerState`` + ``leaveInstance`` (§5.4 "Decide for L"): LEADING if the leader of
    ``result`` is the server itself, else FOLLOWING (OBSERVING for an observer); the result
    vote waits for Publish (§5.5); recvqueue cleared; recvset and outofelection die with the
    ``lookForLeader`` call."""
    if result & LEADER_BITS == m.self_leader_bits[k]:
        sl[F_STATE] = LEADING
    else:
        sl[F_STATE] = FOLLOWING if m.voter[k] else OBSERVING
    sl[F_PHASE] = P_DECIDED
    sl[F_RESULT] = result & ~STATE_MASK
    sl[F_DEC] = dec
    sl[F_QUEUE] = ()
    sl[F_RECV] = m.empty_votes
    sl[F_OOE] = m.empty_votes


def check_leader(m: FLEModel, votes: tuple, k: int, leader: int, rnd: int, clock: int) -> bool:
    """``checkLeader`` (§5.4): another leader must itself have said it is LEADING; for
    itself the round must be the current one (ZOOKEEPER-1514; without it under
    ``Variant.checkleader_self_any_round``; under ``Variant.following_ignored_480`` itself
    too must have said LEADING, which a LOOKING server never has)."""
    if leader != m.sids[k] or m.variant.following_ignored_480:
        v = votes[m.index[leader]]
        return v is not None and v & STATE_MASK == LEADING
    return m.variant.checkleader_self_any_round or clock == rnd


# ---------------------------------------------------------------------------- actions


def _with_server(st: tuple, k: int, s: tuple) -> tuple:
    ns = list(st[0])
    ns[k] = s
    return (tuple(ns), st[1], st[2], st[3], st[4], st[5])


def start_round(m: FLEModel, st: tuple, k: int) -> tuple:
    """StartRound(i) (§5.2). Guard: LOOKING and about to call ``lookForLeader`` (phase idle),
    and logicalclock < max_round (the round bound). Effect: recvset and outofelection
    empty, logicalclock + 1, proposal := initial vote (sid, lastZxid, currentEpoch) -- the
    minimum vote for an observer -- and broadcast it (including the loopback). recvqueue is
    kept: the WorkerReceiver may have queued notifications since the server became LOOKING."""
    s = st[0][k]
    sl = list(s)
    sl[F_PHASE] = P_ROUND
    sl[F_CLOCK] = s[F_CLOCK] + 1
    sl[F_RECV] = m.empty_votes
    sl[F_OOE] = m.empty_votes
    sl[F_PROP] = m.init_key(s, k)
    nc = list(st[1])
    broadcast(m, sl, k, nc)
    ns = list(st[0])
    ns[k] = tuple(sl)
    return (tuple(ns), tuple(nc), st[2], st[3], st[4], st[5])


def process(m: FLEModel, st: tuple, k: int) -> tuple:
    """Process(i) (§5.4). Guard: inside a round, not finalizing, recvqueue non-empty.
    Effect: dequeue the head notification n and apply the rules for its state.

    Filter: n is dropped if its sender or its proposed leader is not a voter.

    LOOKING: higher round -> adopt the round, clear recvset, proposal := the better of n's
    vote and the *initial* vote, broadcast; lower round -> drop; same round -> adopt n's
    vote and broadcast if it is better than the proposal. Then record n in recvset and run
    the termination test: if the voters whose vote equals (proposal, logicalclock) form a
    quorum, start the finalize wait. (``Variant.exit_when_all_heard``, ZOOKEEPER-975:
    decide at once when every voter has an entry.)

    OBSERVING: drop.

    FOLLOWING/LEADING: Step A (same round: record in recvset with version 0; quorum of
    equal votes and checkLeader -> decide) then Step B (any round: record in
    outofelection; quorum and checkLeader -> logicalclock := n's round, decide).
    """
    servers: tuple = st[0]
    s: tuple = servers[k]
    queue: tuple = s[F_QUEUE]
    entry: int = queue[0]
    sender = entry & 63
    n = entry >> SENDER_BITS
    sl = list(s)
    sl[F_QUEUE] = queue[1:]
    nc: list | None = None
    recv: tuple | None
    if m.voter_by_leader1[n >> LEADER_SHIFT & 63]:
        nst = n & STATE_MASK
        clock: int = s[F_CLOCK]
        if nst == LOOKING:
            better = m.better
            rnd = vote_round(n)
            nkey = n >> KEY_SHIFT
            if rnd > clock:
                sl[F_CLOCK] = clock = rnd
                recv = m.empty_votes
                init = m.init_key(s, k)
                sl[F_PROP] = nkey if better(nkey, init) else init
                nc = list(st[1])
                broadcast(m, sl, k, nc)
            elif rnd < clock:
                recv = None
            else:
                recv = s[F_RECV]
                if better(nkey, s[F_PROP]):
                    sl[F_PROP] = nkey
                    nc = list(st[1])
                    broadcast(m, sl, k, nc)
            if recv is not None:
                rl = list(recv)
                rl[sender] = n
                sl[F_RECV] = recv = tuple(rl)
                target = key_to_vote(sl[F_PROP], clock)
                support = looking_support(m, recv, target)
                if m.quorum[support]:
                    sl[F_PHASE] = P_FINAL
                if m.exit_when_all_heard and all(
                        recv[j] is not None for j in m.voter_idx) and m.key_weight(sl[F_PROP]):
                    rr = NO_VOTE_ROUND if m.variant.result_round_minus_one else clock
                    decide(m, sl, k, key_to_vote(sl[F_PROP], rr), (D_LOOKING, support, clock))
        elif nst != OBSERVING:
            _step_a_b(m, sl, k, sender, n)
    ns = list(servers)
    ns[k] = tuple(sl)
    return (tuple(ns), st[1] if nc is None else tuple(nc), st[2], st[3], st[4], st[5])


def _step_a_b(m: FLEModel, sl: list, k: int, sender: int, n: int) -> None:
    """Step A and Step B of §5.4 for a FOLLOWING/LEADING notification (3.6+ semantics).

    Equality (§3.2): n's vote Vn has version 2. In Step A, recvset entries recorded from
    LOOKING notifications must match on all four fields, entries recorded by Step A
    (version 0) on the leader id only. In Step B all entries have version 2, so they match
    on (leader, peerEpoch) -- all four fields under ``Variant.ooe_equality_all_fields``.
    ``Variant.follow_leading_same_round`` (ZOOKEEPER-975): a same-round LEADING
    notification is followed at once. ``Variant.following_ignored_480``: no Step A, only
    that shortcut (if on) and Step B.
    """
    clock = sl[F_CLOCK]
    allf = m.variant.ooe_equality_all_fields
    rnd = vote_round(n)
    nleader = n & LEADER_BITS
    leader = (nleader >> LEADER_SHIFT) - 1
    if rnd == clock and m.variant.following_ignored_480:
        if m.variant.follow_leading_same_round and n & STATE_MASK == LEADING:
            decide(m, sl, k, n, (D_STEP_A, 1 << sender, clock))
            return
    elif rnd == clock:
        rl = list(sl[F_RECV])
        rl[sender] = n
        sl[F_RECV] = recv = tuple(rl)
        if m.variant.follow_leading_same_round and n & STATE_MASK == LEADING:
            decide(m, sl, k, n, (D_STEP_A, 1 << sender, clock))
            return
        mask = 0
        full = n & VOTE_BITS
        for j in m.voter_idx:
            v = recv[j]
            if v is None:
                continue
            if allf or v & STATE_MASK == LOOKING:
                if v & VOTE_BITS == full:
                    mask |= 1 << j
            elif v & LEADER_BITS == nleader:  # version 0 vs version 2: leader id only
                mask |= 1 << j
        if m.quorum[mask] and check_leader(m, recv, k, leader, rnd, clock):
            decide(m, sl, k, n, (D_STEP_A, mask, clock))
            return
    ol = list(sl[F_OOE])
    ol[sender] = n
    sl[F_OOE] = ooe = tuple(ol)
    mask = 0
    bits = VOTE_BITS if allf else LEADER_EPOCH_BITS
    target = n & bits
    for j in m.voter_idx:
        v = ooe[j]
        if v is not None and v & bits == target:
            mask |= 1 << j
    if m.quorum[mask] and check_leader(m, ooe, k, leader, rnd, clock):
        sl[F_CLOCK] = rnd
        decide(m, sl, k, n, (D_STEP_B, mask, clock))


def finalize_drain(m: FLEModel, st: tuple, k: int) -> tuple:
    """FinalizeDrain(i) (§5.4, the ``finalizeWait`` poll). Guard: finalizing and recvqueue
    non-empty. Effect: take the head n; if n is not better than the proposal, discard it for
    good (whatever its state or round); otherwise put it back at the tail of recvqueue and
    leave the finalize wait (back to the main loop, which does not re-run the quorum test
    until another LOOKING notification is recorded)."""
    s: tuple = st[0][k]
    queue: tuple = s[F_QUEUE]
    entry: int = queue[0]
    if m.better(entry >> (SENDER_BITS + KEY_SHIFT), s[F_PROP]):
        ns = s[:F_PHASE] + (P_ROUND,) + s[F_PHASE + 1:F_QUEUE] + (queue[1:] + (entry,),) + \
            s[F_QUEUE + 1:]
    else:
        ns = s[:F_QUEUE] + (queue[1:],) + s[F_QUEUE + 1:]
    return _with_server(st, k, ns)


def finalize_decide(m: FLEModel, st: tuple, k: int) -> tuple:
    """FinalizeDecide(i) (§5.4). Guard: finalizing and recvqueue empty (nothing arrived
    within finalizeWait). Effect: decide for the proposal with result vote (proposal
    leader, zxid, logicalclock, peerEpoch) -- round -1 under
    ``Variant.result_round_minus_one`` (ZOOKEEPER-1732/1818)."""
    s = st[0][k]
    sl = list(s)
    clock = s[F_CLOCK]
    support = looking_support(m, s[F_RECV], key_to_vote(s[F_PROP], clock))
    rr = NO_VOTE_ROUND if m.variant.result_round_minus_one else clock
    decide(m, sl, k, key_to_vote(s[F_PROP], rr), (D_LOOKING, support, clock))
    return _with_server(st, k, tuple(sl))


def have_delivered(m: FLEModel, st: tuple, k: int) -> bool:
    """``QuorumCnxManager.haveDelivered()`` (§4.4): true iff at least one of k's per-peer
    send queues is empty (false without peers); under ``Variant.have_delivered_all_empty_4605``
    iff every one is (true without peers)."""
    chans: tuple = st[1]
    if m.variant.have_delivered_all_empty_4605:
        for ci in m.bcast_chans[k]:
            if chans[ci][0] is not None:
                return False
        return True
    for ci in m.bcast_chans[k]:
        if chans[ci][0] is None:
            return True
    return False


def timeout(m: FLEModel, st: tuple, k: int) -> tuple:
    """Timeout(i) (§5.3). Guard: inside a round, not finalizing, recvqueue empty (the poll
    timed out), timeout budget left, and ``haveDelivered()``. Effect: re-broadcast the
    proposal exactly as StartRound does (loopback included); one timeout consumed (none
    with ``Bounds.free_timeouts``). When every
    queue is full ZooKeeper only calls ``connectAll``, which the connect actions cover, so
    that case is not a separate action."""
    s = st[0][k]
    sl = list(s)
    nc = list(st[1])
    broadcast(m, sl, k, nc)
    ns = list(st[0])
    ns[k] = tuple(sl)
    b = st[3]
    if m.free_timeouts:
        return (tuple(ns), tuple(nc), st[2], b, st[4], st[5])
    nb = b[:B_TIMEOUT] + (b[B_TIMEOUT] - 1,) + b[B_TIMEOUT + 1:]
    return (tuple(ns), tuple(nc), st[2], nb, st[4], st[5])


def publish(m: FLEModel, st: tuple, k: int) -> tuple:
    """Publish(i) (§5.5, §6). Guard: ``lookForLeader`` returned (phase decided). Effect: the
    role loop sets ``currentVote := result`` and starts the role (leader or learner, §7).
    Until this step WorkerReceiver replies advertise the previous vote."""
    s = st[0][k]
    sl = list(s)
    sl[F_PHASE] = P_ROLE
    sl[F_VOTE] = s[F_RESULT]
    ns = list(st[0])
    hist = start_role(m, ns, sl, k, st[5])
    return (tuple(ns), st[1], st[2], st[3], st[4], hist)
