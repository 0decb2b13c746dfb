"""Helpers for the leadership tests: reachable abstract states, concrete Z3 steps."""

from __future__ import annotations

import z3

from zkcheck.invariants.leadership_z3 import Encoding, Sym
from zkcheck.model.discovery_abstract import DiscoveryModel


def reachable(m: DiscoveryModel, max_depth: int | None = None) -> dict[tuple, int]:
    """Every reachable state of the (bounded) abstract model with its BFS depth."""
    init = m.initial_states()[0]
    depth = {init: 0}
    frontier = [init]
    d = 0
    while frontier and (max_depth is None or d < max_depth):
        d += 1
        nxt = []
        for s in frontier:
            for _, t in m.actions(s):
                if t not in depth:
                    depth[t] = d
                    nxt.append(t)
        frontier = nxt
    return depth


def _value(term: z3.ExprRef) -> int | bool:
    v = z3.simplify(term)
    if z3.is_true(v) or z3.is_false(v):
        return z3.is_true(v)
    return v.as_long()


def z3_successors(enc: Encoding, state: tuple) -> dict[str, tuple[tuple, list[bool]]]:
    """label -> (servers, est) of every action whose Z3 guard is true in ``state``, by
    evaluating the Z3 terms on concrete values (E fixed by ``enc.epoch``)."""
    n = enc.n
    pre = Sym.of(state, enc.epoch)
    out: dict[str, tuple[tuple, list[bool]]] = {}
    for a in enc.actions:
        if not _value(enc.guard(a, pre)):
            continue
        post = enc.effect(a, pre)
        servers = tuple(
            (*(_value(getattr(post, f)[k]) for f in ("role", "lead", "fph", "ae", "ce",
                                                      "lph", "le")),
             sum(1 << f for f in range(n) if _value(post.mask[k][f])),
             sum(1 << f for f in range(n) if _value(post.conn[k][f])))
            for k in range(n))
        assert a.label not in out, f"two enabled Z3 actions share the label {a.label}"
        out[a.label] = (servers, [bool(_value(x)) for x in post.est])
    return out


def _signature(label: str, state: tuple, successor: tuple) -> tuple:
    """The rule and branch a step took: its verb and which fields of the acting server and
    of the others changed (e.g. LEADERINFO accepted / answered -1 / rejected)."""
    words = label.split()
    actor = int(words[1]) - 1
    changed = frozenset(
        (k == actor, i) for k, (a, b) in enumerate(zip(state[0], successor[0], strict=True))
        for i in range(len(a)) if a[i] != b[i])
    return words[0], words[-1] == "rejected", changed, state[1] != successor[1]


def covering_sample(m: DiscoveryModel, per_branch: int,
                    max_depth: int | None = None) -> list[tuple]:
    """Reachable states (in BFS order, to ``max_depth``) that take each rule branch
    ``per_branch`` times; the scan stops after 3000 states without a new branch."""
    seen: dict[tuple, int] = {}
    sample = []
    quiet = 0
    for state in reachable(m, max_depth):
        branches = {_signature(label, state, t) for label, t in m.actions(state)}
        quiet += 1
        if any(seen.get(b, 0) < per_branch for b in branches):
            quiet = 0
            sample.append(state)
            for b in branches:
                seen[b] = seen.get(b, 0) + 1
        if quiet > 3000:
            break
    return sample
