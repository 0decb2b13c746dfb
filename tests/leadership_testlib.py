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
