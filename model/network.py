"""The connection layer, QuorumCnxManager (fle-semantics.md §4, abstraction of §4.5).

Per ordered pair i -> j of servers: ``outbox`` (the 1-slot per-recipient send queue; a
new message overwrites the queued one, §4.2 item 3), ``wire`` (FIFO of messages in flight,
at most ``wire_capacity``, only while the pair is connected) and ``last``
(``lastMessageSent``, §4.2 item 4). Per unordered pair: connected or not.

Modelling decisions:

* A server's message to itself never touches the network: it goes straight to its own
  WorkerReceiver, which (the sender being LOOKING and in its own round) appends it to the
  recvqueue (§4.2 item 2, §4.5 "Loopback delivery is immediate").
* Connection rule (§4.1): the surviving connection is always the one initiated by the
  larger sid, so a connection comes up only through an action of the larger sid,
  ``connect <larger>-<smaller>``. It is enabled when the larger sid has a message queued for
  the smaller one (its own send triggers ``connectOne``), or when the smaller one has a
  message queued for the larger one and connect-back works (the smaller sid's attempt is
  rejected and the larger sid connects back; ``Variant.connect_back_fails`` = ZOOKEEPER-2164
  disables this). A smaller sid can therefore never open a channel to a larger one by
  itself. Connecting with nothing queued on either side (``connectAll`` on an election
  timeout only runs when every queue is non-empty, §4.4) is not modelled.
* On a new connection each side whose queue for the peer is empty re-sends its ``last``
  message (§4.2 item 5); ``Variant.resend_last_always`` (ZOOKEEPER-975) re-sends it even
  when a newer one is queued, ``Variant.no_resend_on_connect_481`` never.
* Links between servers that are up at the start are connected at the start: connecting
  at boot only delays messages that wait in the outbox anyway, and there is no ``last``
  yet, so no behaviour is lost while many uninteresting states are.
* The raw receive queue (§4.3, capacity 100) is not modelled separately: ``deliver`` runs
  the WorkerReceiver step on the head of the wire. It never fills up within our bounds.
* A WorkerReceiver reply is built and queued within ``deliver`` (one state read); with
  ``Bounds.nonatomic_replies`` the delivery reads only the vote, and later ``build`` and
  ``reply`` steps read logicalclock and the state and queue the reply (§5.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zkcheck.model.election import built_reply, complete_reply, receive
from zkcheck.model.state import (
    B_LINK,
    B_RECONNECT,
    B_TIMEOUT,
    F_QUEUE,
    F_REPLY,
    F_STATE,
    LOOKING,
    N_FIELDS,
    P_DOWN,
    R_BUILT,
    SENDER_BITS,
)

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel


def send(chans: list, n: int, i: int, j: int, msg: int) -> None:
    """Queue ``msg`` for j at i, overwriting what was queued (§4.2 item 3). ``chans`` is a
    mutable copy of the channel tuple."""
    c = chans[i * n + j]
    chans[i * n + j] = (msg, c[1], c[2])


def gen_transmit(m: FLEModel, st: tuple, out: list) -> None:
    """Transmit(i, j) (§4.2 item 4, §4.5): the SendWorker of a live connection takes the
    queued message, remembers it as ``lastMessageSent`` and writes it to the socket.
    Guard: connected, something queued, fewer than ``wire_capacity`` messages in flight."""
    chans: tuple = st[1]
    links: int = st[2]
    cap = m.wire_capacity
    c: tuple
    for ci, bit, label in m.pair_chans:
        if not links & bit:
            continue
        c = chans[ci]
        msg = c[0]
        wire: tuple = c[1]
        if msg is None or len(wire) >= cap:
            continue
        nc = list(chans)
        nc[ci] = (None, wire + (msg,), msg)
        out.append((label, (st[0], tuple(nc), links, st[3], st[4], st[5])))


def gen_deliver(m: FLEModel, st: tuple, out: list) -> None:
    """Deliver(i, j) (§4.3, §5.1): the head message in flight from i reaches j and j's
    WorkerReceiver handles it (``election.receive``). A reply it produces is queued for i
    at once (overwriting, §4.2: replies and notifications share the slot), or, with
    ``Bounds.nonatomic_replies``, left pending at j for a later ``reply j->i`` step
    (``gen_reply``). Guard: something in flight (a wire is non-empty only while the pair is
    connected); with ``nonatomic_replies`` j has no reply pending (one WorkerReceiver
    thread: it finishes a reply before it takes the next message); with a
    ``recv_capacity`` bound, j's recvqueue has room if j is LOOKING (back-pressure, see
    ``zkcheck.model.config.Bounds``)."""
    chans: tuple = st[1]
    n = m.n
    cap = m.recv_capacity
    split = m.nonatomic_replies
    c: tuple
    servers: tuple
    for ci, i, j, label in m.deliver_chans:
        c = chans[ci]
        wire: tuple = c[1]
        if not wire:
            continue
        if cap:
            r: tuple = st[0][j]
            if r[F_STATE] == LOOKING and len(r[F_QUEUE]) >= cap:
                continue
        servers = st[0]
        if split and len(servers[j]) > N_FIELDS:
            continue
        ns, entry = receive(m, servers[j], j, i, wire[0])
        nc = list(chans)
        nc[ci] = (c[0], wire[1:], c[2])
        if entry is not None:
            if split:
                ns = ns + (entry,)
            else:
                send(nc, n, j, i, complete_reply(ns, entry))
        if ns is not servers[j]:
            sl = list(servers)
            sl[j] = ns
            servers = tuple(sl)
        out.append((label, (servers, tuple(nc), st[2], st[3], st[4], st[5])))


def gen_reply(m: FLEModel, st: tuple, out: list) -> None:
    """Build(j, i) and Reply(j, i) (§5.1, ``Bounds.nonatomic_replies`` only), for a reply
    that j's WorkerReceiver started when i's message arrived (``election.receive``):

    * ``build j->i``: it reads logicalclock and its state; the reply is complete but not
      yet queued (the thread is preempted before ``sendqueue.offer``);
    * ``reply j->i``: it reads what it has not read yet and queues the reply for i
      (overwriting, §4.2).

    Everything the election loop did in between shows: a newer round with the old
    proposal, a FOLLOWING/LEADING state with the proposal, LOOKING with the role's vote and
    round, a reply queued after a later broadcast. Guard: j has a pending reply (not yet
    built, for ``build``); a crash drops it."""
    servers: tuple = st[0]
    s: tuple
    for k, s in enumerate(servers):
        if len(s) <= N_FIELDS:
            continue
        entry: int = s[F_REPLY]
        i = entry & 63
        if not entry >> SENDER_BITS & R_BUILT:
            ns = list(servers)
            ns[k] = s[:F_REPLY] + (built_reply(s, entry),)
            out.append((m.lbl_build[k * m.n + i], (tuple(ns),) + st[1:]))
        nc = list(st[1])
        send(nc, m.n, k, i, complete_reply(s, entry))
        ns = list(servers)
        ns[k] = s[:F_REPLY]
        out.append((m.lbl_reply[k * m.n + i], (tuple(ns), tuple(nc), st[2], st[3], st[4],
                                               st[5])))


def gen_connect(m: FLEModel, st: tuple, out: list) -> None:
    """LinkUp / connect (§4.1, §4.2 item 5, §4.4): the larger sid ``a`` opens the connection
    to the smaller sid ``b`` (see the module docstring for when), then each side whose
    queue for the other is empty re-sends its last message."""
    servers, chans, links = st[0], st[1], st[2]
    if links == m.all_links:  # the common case: nothing to connect
        return
    back = not m.variant.connect_back_fails
    for a, b, ab, ba, bit, label in m.connect_pairs:
        if links & bit or servers[a][0] == P_DOWN or servers[b][0] == P_DOWN:
            continue
        cab, cba = chans[ab], chans[ba]
        if cab[0] is None and (not back or cba[0] is None):
            continue
        nc = list(chans)
        _open(m, nc, ab, ba)
        out.append((label, (servers, tuple(nc), links | bit, st[3], st[4], st[5])))


def _open(m: FLEModel, nc: list, ab: int, ba: int) -> None:
    """A new connection between the channels ``ab`` and ``ba``: each side whose queue for
    the other is empty re-sends its last message (§4.2 item 5, flags in the module
    docstring). ``nc`` is a mutable copy of the channels."""
    always = m.variant.resend_last_always
    if m.variant.no_resend_on_connect_481:
        return
    for ci in (ab, ba):
        c = nc[ci]
        if c[2] is not None and (c[0] is None or always):
            nc[ci] = (c[0], (c[2],), c[2])


def connect_all(m: FLEModel, st: tuple, k: int, charge: bool = True) -> tuple | None:
    """``connectAll`` on a poll timeout of server ``k`` whose ``haveDelivered()`` is false,
    modelled only under ``Variant.have_delivered_all_empty_4605`` (otherwise it runs only
    when every queue is full and ``connect`` covers it): ``connectOne`` to every voter that
    is up and not connected, whether or not anything is queued for it (towards a larger
    sid only if the connect-back works). Returns None when it connects nothing. With
    ``charge`` it consumes a timeout like the re-broadcast it replaces."""
    servers, chans, links = st[0], st[1], st[2]
    back = not m.variant.connect_back_fails
    nc: list | None = None
    for a, b, ab, ba, bit, _label in m.connect_pairs:
        if links & bit or (a != k and b != k) or not m.voter[a + b - k]:
            continue
        if servers[a][0] == P_DOWN or servers[b][0] == P_DOWN or (b == k and not back):
            continue
        if nc is None:
            nc = list(chans)
        _open(m, nc, ab, ba)
        links |= bit
    if nc is None:
        return None
    b = st[3]
    if charge and not m.free_timeouts:
        b = b[:B_TIMEOUT] + (b[B_TIMEOUT] - 1,) + b[B_TIMEOUT + 1:]
    return (servers, tuple(nc), links, b, st[4], st[5])


def gen_link_down(m: FLEModel, st: tuple, out: list) -> None:
    """LinkDown(i, j) (§4.4 "Break", §4.5): the connection breaks; messages in flight in
    both directions are lost, the send queues and ``last`` are kept. Guard: connected and
    link-failure budget left."""
    _break_connections(m, st, out, m.linkdown_pairs, B_LINK, reconnect=False)


def gen_reconnect(m: FLEModel, st: tuple, out: list) -> None:
    """Reconnect(a, b) (budget ``reconnects``): a live connection is replaced by a new one
    in one step. Simultaneous connection attempts race in QuorumCnxManager: the larger sid
    drops the smaller one's attempt and connects back, and a second connection of a sid
    replaces the first (``handleConnection``/``startConnection`` finish the old
    SendWorker/RecvWorker, which logs "Connection broken"). Bytes in flight on the old
    connection are lost; the new SendWorker re-sends ``lastMessageSent`` when nothing is
    queued (``SendWorker.run``), so the peer can receive a notification twice. Unlike
    LinkDown + connect it needs nothing queued: the handshake, not a send, reconnects."""
    _break_connections(m, st, out, m.reconnect_pairs, B_RECONNECT, reconnect=True)


def _break_connections(m: FLEModel, st: tuple, out: list, pairs: tuple, budget_index: int,
                       reconnect: bool) -> None:
    """One successor per connected pair: what was in flight is lost; with ``reconnect`` the
    link stays up and each side re-sends ``last`` as a new connection does (§4.2 item 5)."""
    budget: tuple = st[3]
    if not budget[budget_index]:
        return
    chans, links = st[1], st[2]
    nb = budget[:budget_index] + (budget[budget_index] - 1,) + budget[budget_index + 1:]
    always = m.variant.resend_last_always
    resend = reconnect and not m.variant.no_resend_on_connect_481
    for _a, _b, ab, ba, bit, label in pairs:
        if not links & bit:
            continue
        nc = list(chans)
        for ci in (ab, ba):
            c = nc[ci]
            if resend and c[2] is not None and (c[0] is None or always):
                nc[ci] = (c[0], (c[2],), c[2])
            elif c[1]:
                nc[ci] = (c[0], (), c[2])
        out.append((label, (st[0], tuple(nc), links if reconnect else links & ~bit, nb,
                            st[4], st[5])))
