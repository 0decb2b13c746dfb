"""Helpers for the FLE model tests: build models, take labelled steps, read fields."""

from __future__ import annotations

from zkcheck.model.config import ModelConfig
from zkcheck.model.fle import FLEModel


def model(servers=3, **kw) -> FLEModel:
    return FLEModel(ModelConfig.make(servers, **kw))


def labels(m: FLEModel, st: tuple) -> list[str]:
    return [label for label, _ in m.actions(st)]


def step(m: FLEModel, st: tuple, label: str) -> tuple:
    """The successor under ``label``; fails the test if the action is not enabled."""
    for candidate, successor in m.actions(st):
        if candidate == label:
            return successor
    raise AssertionError(f"{label!r} not enabled; enabled: {labels(m, st)}")


def run(m: FLEModel, steps: list[str], st: tuple | None = None) -> tuple:
    st = m.initial_states()[0] if st is None else st
    for label in steps:
        st = step(m, st, label)
    return st


def srv(m: FLEModel, st: tuple, sid: int) -> tuple:
    return st[0][m.index[sid]]


def chan(m: FLEModel, st: tuple, a: int, b: int) -> tuple:
    """(outbox, wire, last) of the ordered pair a -> b."""
    return st[1][m.index[a] * m.n + m.index[b]]


def with_server(st: tuple, k: int, **fields: object) -> tuple:
    """``st`` with fields of server index ``k`` replaced (names as in state.F_*, lower case
    without the prefix, e.g. phase=..., queue=...)."""
    from zkcheck.model import state as S

    sl = list(st[0][k])
    for name, value in fields.items():
        sl[getattr(S, "F_" + name.upper())] = value
    servers = list(st[0])
    servers[k] = tuple(sl)
    return (tuple(servers),) + st[1:]


def reachable(m: FLEModel, max_states: int = 2_000_000):
    """All reachable states with their transitions (small complete runs only)."""
    init = m.initial_states()[0]
    seen = {init}
    frontier = [init]
    edges = []
    while frontier:
        nxt = []
        for s in frontier:
            for label, t in m.actions(s):
                edges.append((s, label, t))
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
        assert len(seen) <= max_states
    return seen, edges


_SEARCHES: dict[str, object] = {}


def full_search(servers: int, config: dict, **options):
    """``Search(model(servers, **config), **options).run()``, computed once per test session.

    Several modules compare against the same single-process run (exact counts, BFS vs DFS,
    the partitioned search, the reductions): they share it instead of exploring the same
    configuration again. Results are read, never changed, by the tests.
    """
    from zkcheck.explorer import Bounds, Search

    options.setdefault("bounds", Bounds())
    key = repr((servers, sorted(config.items()), sorted(options.items())))
    if key not in _SEARCHES:
        _SEARCHES[key] = Search(model(servers, **config), **options).run()
    return _SEARCHES[key]
