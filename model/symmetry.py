"""Server permutations of FLE states, and the one symmetry FLE really has: observers.

Server ids are compared (the vote order, ``checkLeader``, which side opens a connection),
so permuting servers is **not** an automorphism of FLE in general; ``--check-symmetry``
rejects it (tests show it). Observers never propose themselves, never count in a quorum
(unless ``observers_in_epoch_quorum``), receive only replies, and are told apart only by
their sid; so permuting observers among themselves maps runs to runs. That is declared as
the model's symmetry group, and the explorer can check it on explored states.

Values (zxids, epochs, rounds) are not renamed: rounds meet an absolute bound (max-round),
epochs and zxid counters are incremented (+1) and kept in the history and high-water
marks, so the only order- and difference-preserving renaming is a translation, which the
absolute bounds break and the history makes useless (no two reachable states differ by
one).

``permute(m, state, perm)`` renames server index k to ``perm[k]`` everywhere: the server
tuples, the channel matrix, link and late bits, sender indices, index-addressed vote
tables and masks, pending replies, and the sids inside vote words, keys and history
records.
"""

from __future__ import annotations

from itertools import permutations
from typing import TYPE_CHECKING

from zkcheck.model.state import (
    F_DEC,
    F_OOE,
    F_PROP,
    F_QUEUE,
    F_RECV,
    F_REPLY,
    F_RESULT,
    F_VOTE,
    F_ZAB,
    LEADER_BITS,
    LEADER_SHIFT,
    N_FIELDS,
    REPLY_SHIFT,
    SENDER_BITS,
    ZR_LEADER,
    pair_bit,
)

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel

Perm = tuple[int, ...]


def _mask(mask: int, perm: Perm) -> int:
    out = 0
    for k, target in enumerate(perm):
        if mask >> k & 1:
            out |= 1 << target
    return out


def permute(m: FLEModel, state: tuple, perm: Perm) -> tuple:
    """``state`` with server index k renamed to ``perm[k]`` (see the module docstring)."""
    n, sids = m.n, m.sids
    # leader field value (sid + 1) -> renamed value; 0 (the observer's -1) stays
    lead = {0: 0}
    for k, sid in enumerate(sids):
        lead[sid + 1] = sids[perm[k]] + 1

    def word(w: int | None) -> int | None:
        if w is None:
            return None
        return w & ~LEADER_BITS | lead[w >> LEADER_SHIFT & 63] << LEADER_SHIFT

    def key(x: int | None) -> int | None:
        return None if x is None else x & ~63 | lead[x & 63]

    def table(votes: tuple) -> tuple:
        out: list = [None] * n
        for j, v in enumerate(votes):
            out[perm[j]] = word(v)
        return tuple(out)

    servers: list = [None] * n
    for k, s in enumerate(state[0]):
        sl = list(s)
        sl[F_PROP] = key(s[F_PROP])
        sl[F_VOTE] = word(s[F_VOTE])
        sl[F_RESULT] = word(s[F_RESULT])
        sl[F_QUEUE] = tuple(word(e >> SENDER_BITS) << SENDER_BITS | perm[e & 63]
                            for e in s[F_QUEUE])
        sl[F_RECV] = table(s[F_RECV])
        sl[F_OOE] = table(s[F_OOE])
        if s[F_DEC] is not None:
            kind, mask, clock = s[F_DEC]
            sl[F_DEC] = (kind, _mask(mask, perm), clock)
        if len(s) > N_FIELDS:  # a pending WorkerReceiver reply: vote word and recipient
            r = s[F_REPLY]
            sl[F_REPLY] = word(r >> REPLY_SHIFT) << REPLY_SHIFT | r & (3 << SENDER_BITS) \
                | perm[r & 63]
        z = s[F_ZAB]
        if z is not None and z[0] == ZR_LEADER:
            carried = tuple(sorted((perm[j],) + rest for j, *rest in z[5]))
            sl[F_ZAB] = (z[0], z[1], z[2], _mask(z[3], perm), _mask(z[4], perm), carried)
        servers[perm[k]] = tuple(sl)
    chans: list = [None] * (n * n)
    for i in range(n):
        for j in range(n):
            c = state[1][i * n + j]
            if c is not None:
                chans[perm[i] * n + perm[j]] = (word(c[0]), tuple(word(x) for x in c[1]),
                                                word(c[2]))
    links = 0
    for i in range(n):
        for j in range(i + 1, n):
            if state[2] & pair_bit(i, j, n):
                links |= pair_bit(perm[i], perm[j], n)
    def sid(x: int) -> int:
        return sids[perm[m.index[x]]]

    hist = tuple(sorted((h[0], sid(h[1]), _mask(h[2], perm), h[3],
                         tuple(sorted((sid(a[0]),) + a[1:] for a in h[4])))
                        for h in state[5]))
    return (tuple(servers), tuple(chans), links, state[3], _mask(state[4], perm), hist)


def observer_group(m: FLEModel) -> list[Perm]:
    """Every permutation of the observers among themselves (voters fixed), identity first."""
    obs = [k for k in range(m.n) if not m.voter[k]]
    group = []
    for image in permutations(obs):
        perm = list(range(m.n))
        for source, target in zip(obs, image, strict=True):
            perm[source] = target
        group.append(tuple(perm))
    return group


def server_group(m: FLEModel) -> list[Perm]:
    """Every permutation of all servers: the naive symmetry, *not* one of FLE."""
    return [tuple(p) for p in permutations(range(m.n))]


def canonical(m: FLEModel, state: tuple, group: list[Perm]) -> tuple:
    """The representative of ``state``'s orbit: the image with the smallest encoding."""
    if len(group) == 1:
        return state
    best, best_code = state, m.encode(state)
    for perm in group[1:]:
        image = permute(m, state, perm)
        code = m.encode(image)
        if code < best_code:
            best, best_code = image, code
    return best
