"""Liveness: "eventually goal" under weak fairness, on a complete explored graph.

A run violates "eventually goal" iff it never visits a goal state. In a finite graph such
a run either ends in a deadlock (no action enabled; the run stutters there forever) or
ends up cycling inside one strongly connected component C of the graph restricted to
non-goal states reachable from an initial state through non-goal states.

Weak fairness is per *fairness class* of actions, which the model names through an
optional ``fairness(label) -> Hashable | None`` method (None: not fair, e.g. crashes; no
method: every label is its own weakly fair class). A run cycling through all of C
is weakly fair iff every class that is enabled in *every* state of C is also taken by
some edge inside C; since visiting more of C only helps, a maximal SCC contains a fair
cycle iff that condition holds for the SCC itself. The counterexample is a lasso:
a shortest non-goal prefix to an entry state of C, then a loop inside C built so that the
loop itself is fair (it takes each class that stays enabled along it).

A property may carry an environment assumption (``Property.assume``, e.g. "a quorum of
servers is up"): the goal is promised only to runs that eventually stay in states where it
holds. The prefix of a counterexample may leave it; its deadlock, or every state of its
fair cycle, satisfies it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Any

import networkx as nx
import numpy as np

from zkcheck.explorer.model import Model, Property, PropertyKind
from zkcheck.explorer.result import HOLDS, VIOLATED, Verdict
from zkcheck.explorer.trace import replay_labels


def check_liveness(model: Model, prop: Property, search: Any) -> Verdict:
    """The liveness checker the explorer calls for each liveness property."""
    verdict = Verdict(prop.name, PropertyKind.LIVENESS, HOLDS, description=prop.description)
    goal = search.goal_values(prop.name)
    graph = search.graph()
    roots = [i for i in range(search.store.count) if int(search.store.parents[i]) == 0xFFFFFFFF]
    bad_roots = [r for r in roots if not goal[r]]
    if not bad_roots:
        verdict.note = "vacuous: the goal holds in every initial state"
        return verdict
    fairness = getattr(model, "fairness", None)
    names = graph.label_names
    classes = [fairness(name) if fairness else name for name in names]

    # edges among non-goal states
    src, dst, lab = graph.sources, graph.targets, graph.labels
    inside = ~goal[src] & ~goal[dst]
    sub = nx.MultiDiGraph()
    sub.add_edges_from(
        (int(u), int(v), {"label": int(k)})
        for u, v, k in zip(src[inside], dst[inside], lab[inside], strict=True)
    )
    sub.add_nodes_from(bad_roots)
    reachable = set()
    for root in bad_roots:
        if root not in reachable:
            reachable |= nx.descendants(sub, root) | {root}
    sub = sub.subgraph(reachable)

    # enabled classes per state (in the whole graph: an action leading to a goal state
    # is still enabled)
    enabled: dict[int, set[Hashable]] = {}
    out_degree = np.bincount(src, minlength=search.store.count)
    for u, k in zip(src.tolist(), lab.tolist(), strict=True):
        if u in reachable and classes[k] is not None:
            enabled.setdefault(u, set()).add(classes[k])

    assumed = search.assumption_values(prop.name)
    outside = [] if assumed is None else [u for u in reachable if not assumed[u]]
    recurrent = sub.subgraph(reachable - set(outside)) if outside else sub
    deadlocked = sorted(u for u in recurrent if graph.expanded[u] and out_degree[u] == 0)
    unfair_cycles = 0
    candidates = []
    for component in nx.strongly_connected_components(recurrent):
        if len(component) == 1:
            (node,) = component
            if not sub.has_edge(node, node):
                continue
        taken = {classes[d["label"]] for _, v, d in sub.out_edges(component, data=True)
                 if v in component}
        always = set.intersection(*(enabled.get(u, set()) for u in component))
        if always - taken:
            unfair_cycles += 1
            continue
        candidates.append(component)

    if not candidates and not deadlocked:
        verdict.note = (
            f"holds under weak fairness: {unfair_cycles} cycle(s) avoiding the goal are unfair"
            if unfair_cycles else "holds without fairness: no cycle avoids the goal"
        )
        if recurrent is not sub:
            verdict.note += (f"; {len(outside):,} state(s) outside its assumption, where a run "
                             "may stay, are not judged")
        return verdict

    distance, parent = _bfs_tree(sub, bad_roots)
    if candidates:
        component = min(candidates, key=lambda c: (min(distance[u] for u in c), min(c)))
        entry = min(component, key=lambda u: (distance[u], u))
        loop = _fair_loop(sub.subgraph(component), entry, classes, enabled)
        note = f"fair cycle of {len(component)} states avoids the goal forever"
    else:
        entry = min(deadlocked, key=lambda u: (distance[u], u))
        loop = []
        note = "a deadlocked state never reaches the goal"
    prefix = _path_labels(parent, entry)
    root = prefix[0] if prefix else entry
    labels = [names[k] for k in (prefix[1:] if prefix else [])] + [names[k] for k in loop]
    initial = model.initial_states()[search.initial_index(root)]
    trace = replay_labels(model, initial, labels)
    if loop:
        trace = type(trace)(trace.initial, trace.steps, loop_start=len(labels) - len(loop))
    verdict.status = VIOLATED
    verdict.trace = trace
    verdict.note = note
    return verdict


def _bfs_tree(graph: nx.MultiDiGraph, roots: list[int]) -> tuple[dict, dict]:
    """Shortest distances and (parent, label) links from the roots, deterministic."""
    distance = {r: 0 for r in roots}
    parent: dict[int, tuple[int, int] | None] = {r: None for r in roots}
    queue = deque(sorted(roots))
    while queue:
        u = queue.popleft()
        edges = sorted(graph.out_edges(u, data=True), key=lambda e: (e[1], e[2]["label"]))
        for _, v, data in edges:
            if v not in distance:
                distance[v] = distance[u] + 1
                parent[v] = (u, data["label"])
                queue.append(v)
    return distance, parent


def _path_labels(parent: dict, node: int) -> list[int]:
    """[root, label1, label2, ...] of the tree path to ``node``."""
    labels = []
    while parent[node] is not None:
        node, label = parent[node]
        labels.append(label)
    return [node] + labels[::-1]


def _shortest(graph: nx.MultiDiGraph, a: int, b: int) -> list[int]:
    """Labels of a shortest path a -> b inside ``graph`` (empty if a == b)."""
    nodes = nx.shortest_path(graph, a, b)
    return [min(d["label"] for d in graph.get_edge_data(u, v).values())
            for u, v in zip(nodes, nodes[1:], strict=False)]


def _fair_loop(component: nx.MultiDiGraph, entry: int, classes: list, enabled: dict) -> list[int]:
    """Labels of a cycle from ``entry`` back to it that is weakly fair by itself."""
    def closing_cycle() -> list[int]:
        best = None
        for _, v, data in sorted(component.out_edges(entry, data=True),
                                 key=lambda e: (e[1], e[2]["label"])):
            path = [data["label"]] + _shortest(component, v, entry)
            if best is None or len(path) < len(best):
                best = path
        return best or []

    loop_edges: list[int] = []
    for _ in range(len(set(classes)) + 1):
        states = _loop_states(component, entry, loop_edges)
        taken = {classes[k] for k in loop_edges}
        always = set.intersection(*(enabled.get(u, set()) for u in states))
        missing = sorted(always - taken, key=repr)
        if not missing:
            return loop_edges or closing_cycle()
        wanted = missing[0]
        edge = next(((u, v, d["label"]) for u, v, d in component.edges(data=True)
                     if classes[d["label"]] == wanted), None)
        if edge is not None:
            u, v, label = edge
            loop_edges = loop_edges + _shortest(component, entry, u) + [label] + _shortest(
                component, v, entry)
        else:
            w = next(u for u in sorted(component) if wanted not in enabled.get(u, set()))
            loop_edges = loop_edges + _shortest(component, entry, w) + _shortest(
                component, w, entry)
    return loop_edges


def _loop_states(component: nx.MultiDiGraph, entry: int, labels: list[int]) -> list[int]:
    states, node = [entry], entry
    for label in labels:
        node = next(v for _, v, d in component.out_edges(node, data=True) if d["label"] == label)
        states.append(node)
    return states
