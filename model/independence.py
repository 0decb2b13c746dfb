"""The independence relation of the FLE model, for partial-order reduction.

Footprints (what each action reads and writes; ``S_k`` = server k's tuple, ``O_ij`` the
outbox+last and ``W_ij`` the wire of channel i -> j, ``L`` links, ``B`` budgets, ``H`` the
establishment history):

=========================  =====================================  ======================
action                     reads                                  writes
=========================  =====================================  ======================
start/process/timeout k    S_k (all election fields)              S_k, O_k* (broadcast),
                                                                  B (timeout)
drain/decide/publish k     S_k                                    S_k, H (publish)
zab action of learner k    S_k, S_leader                          S_k, S_leader, H, B
setepoch k (a leader)      S_k                                    S_k, H
transmit i->j              O_ij, W_ij, L                          O_ij, W_ij
deliver i->j               W_ij, S_j: state, clock, proposal,     W_ij, S_j.queue, O_ji
                           vote, queue (append)
connect / linkdown /       S_a/S_b phase (down?), O, W, L, B       O, W, L, B
reconnect a-b
crash k                    S_k, S_leader(k), everything of k      S_k, O_k*, W_*k, L, B,
                                                                  S_leader(k).zab
restart / boot k           S_k, late                              S_k, B, late
=========================  =====================================  ======================

The reduction uses one class of actions, the **quiet local steps** of a server k whose
election loop is inside ``lookForLeader``:

* ``process k`` whose effect on the state is only: the head of k's recvqueue removed,
  recvset/outofelection updated, phase round -> round|finalizing (no broadcast, no
  decision, no change of logicalclock, proposal, state, vote, persistent or Zab fields,
  channels, budgets or history);
* ``drain k`` that discards the head (it is not better than the proposal).

Claim (C1): a quiet step ``a`` of k, enabled in s, is independent of every action that can
occur before it on any path from s, except ``crash k``, which absorbs it.

* k's other actions are all disabled until ``a`` is taken: k is in round/finalizing with a
  non-empty queue, which only k's own steps (and a crash) shrink or leave; start, timeout,
  decide, publish and the Zab actions need another phase or an empty queue.
* ``deliver i->k`` reads k's state, logicalclock, proposal and vote -- none changed by
  ``a`` -- and appends to the queue, while ``a`` pops its head and depends only on the head
  and k's election fields: both orders give ``queue[1:] + (m,)``; its reply goes to
  ``O_ki``, which ``a`` does not touch. Neither disables the other (the queue stays
  non-empty; the wire is not read by ``a``). With a ``recv_capacity`` bound a full queue
  disables the deliver until ``a`` (or another step of k) makes room, so it cannot
  precede ``a`` then; ``a`` only ever enables it.
* Every other action of another server or channel touches none of the fields ``a``
  writes: other servers read k only through its phase being ``down`` or ``role`` (connect,
  crash, restart, the learner's "is my leader running") and its persistent epochs/zxid
  (Zab) -- round and finalizing are neither, and persistent fields are unchanged. ``a``
  writes no channel, link, budget or history.
* ``crash k`` after ``a`` gives the same state as ``crash k`` alone: a crash keeps only the
  persistent fields and the Zab bookkeeping at k's leader, which ``a`` does not change.
* The effect of ``a`` stays the same along such paths (it depends only on the fields the
  other actions do not write), so ``a`` stays quiet and invisible.

C2: the properties of ``zkcheck.invariants.fle`` read the history, epochs and their
high-water marks, decision evidence and result, phase (only "down" vs not), state and
the Zab tuple: a quiet step changes none of them. A property outside that list turns POR
off (``ample_for`` returns None). Termination: every quiet step shortens k's queue, and
nothing else shortens a queue without being fully expanded, so chains of reduced steps are
finite.

``ample`` picks the first quiet step in action order (deterministic).

Why nothing louder: a step that broadcasts appends its loopback notification to k's
recvqueue, racing every ``deliver i->k`` for its place, and overwrites k's 1-slot send
queues, racing every pending ``transmit k->j``; a persistent set holding it must hold the
deliveries to k that can still be put on a wire, hence their transmits and the senders'
broadcasts -- nearly everything. A state-dependent version (no answer possible at k, no
connection to be made) was tried and refuted by ``check_independence`` ("'start 2' and
'deliver 1->2' do not commute"); ``tests/test_reductions.py`` keeps both refutations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from zkcheck.model import expiry, faults, network
from zkcheck.model.state import F_OOE, F_PHASE, F_QUEUE, F_RECV, N_FIELDS, P_FINAL, P_ROUND

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel

COVERED_PROPERTIES = frozenset({
    "Leadership", "EpochMonotonic", "DecisionSupported", "EstablishedLeaderUpToDate",
    "VoteOrderIsStrict", "LeaderEstablished", "TwoLeadingSameRound", "BoundStall",
    "ElectedIsMostUpToDate", "EstablishedByQuorum", "NewLeaderAckDurable",
})
"""Properties proven not to read the fields a quiet step writes (queue, recvset,
outofelection, phase round/finalizing) -- and ``BoundStall``, which does read the queue but
holds only in deadlock states: persistent sets reach every deadlock state itself (an
ample action stays enabled until taken, so a path to a deadlock takes it and it can be
moved to the front), so it needs no invisibility. DecisionSupported and
ElectedIsMostUpToDate also read, for a server k in the finalize wait, k's recvset,
proposal and round, and the phase (only "in election or not"), state, round and
persistent fields of the voters it heard: a quiet step of k moves k between round and
finalizing, so the run-time visibility guard decides there; no other action writes k's
fields (a crash absorbs the step), so the value after any independent path is the value
the guard saw. EpochMonotonic and NewLeaderAckDurable read the phase only as "down or
not", which no quiet step changes, and otherwise persistent fields and the Zab tuple."""

KNOWN_GENERATORS = frozenset({
    network.gen_transmit, network.gen_deliver, network.gen_connect, network.gen_link_down,
    network.gen_reconnect, faults.gen_crash, faults.gen_restart, faults.gen_boot,
    expiry.gen_expiry,
})
"""The channel and fault actions the footprint table covers; a model with others has no
POR until the table is extended."""

_QUIET_WRITES = (F_PHASE, F_QUEUE, F_RECV, F_OOE)
_KEEP = tuple(i for i in range(N_FIELDS) if i not in _QUIET_WRITES)

AmpleFn = Callable[[tuple, Sequence[tuple[str, tuple]]], "int | None"]


def refusal(m: FLEModel, property_names: Sequence[str]) -> str | None:
    """Why the proof does not cover this model and these properties (None: it does)."""
    uncovered = sorted(set(property_names) - COVERED_PROPERTIES)
    if uncovered:
        return f"off: {', '.join(uncovered)} not covered by the model's independence proof"
    unknown = sorted(g.__name__ for g in set(m._pair_generators) - KNOWN_GENERATORS)
    if unknown:
        return f"off: actions {', '.join(unknown)} not in the independence proof"
    initial = m.initial_states()[0]
    if len(initial) != 6 or any(len(s) != N_FIELDS for s in initial[0]):
        return "off: the state layout is not the one the independence proof covers"
    return None


def ample_for(m: FLEModel, property_names: Sequence[str]) -> AmpleFn | None:
    """The ample-set function for these properties, or None if the proof does not cover
    them (or the model has actions or fields the footprint table does not know; the
    reason is ``refusal``)."""
    if refusal(m, property_names) is not None:
        return None
    process = {label: k for k, label in enumerate(m.lbl_process)}
    drain = {label: k for k, label in enumerate(m.lbl_drain)}

    def ample(state: tuple, acts: Sequence[tuple[str, tuple]]) -> int | None:
        servers = state[0]
        for index, (label, succ) in enumerate(acts):
            k = process.get(label)
            draining = k is None
            if draining:
                k = drain.get(label)
                if k is None:
                    continue
            if quiet(state, servers, succ, k, draining):
                return index
        return None

    return ample


def quiet(state: tuple, servers: tuple, succ: tuple, k: int, draining: bool) -> bool:
    """Whether ``succ`` differs from ``state`` only as a quiet step of server k does."""
    if succ[1] is not state[1] or succ[2] != state[2] or succ[3] != state[3] or \
            succ[4] != state[4] or succ[5] != state[5]:
        return False
    new = succ[0]
    for j, s in enumerate(servers):
        if j != k and new[j] is not s:
            return False
    a, b = servers[k], new[k]
    if b[F_QUEUE] != a[F_QUEUE][1:]:
        return False
    if draining:
        if a[F_PHASE] != P_FINAL or b[F_PHASE] != P_FINAL:
            return False
    elif a[F_PHASE] != P_ROUND or b[F_PHASE] not in (P_ROUND, P_FINAL):
        return False
    for i in _KEEP:
        if a[i] != b[i]:
            return False
    return True


def absorbs(m: FLEModel, ample_label: str, other: str) -> bool:
    """``other`` after the quiet step ``ample_label`` equals ``other`` alone: the crash of
    the same server."""
    parts = ample_label.split(" ")
    return other == f"crash {parts[-1]}"

