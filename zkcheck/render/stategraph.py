"""State-graph view: the states around a trace, or the whole explored graph of a small run.

Built as a networkx ``MultiDiGraph`` (nodes keyed by the model's canonical encoding, so
equal states are one node) and drawn with Graphviz. Graphs beyond ``max_nodes`` are
refused: a picture of thousands of states explains nothing and dot takes minutes on it.
"""

from __future__ import annotations

import html
from typing import Any

import graphviz
import networkx as nx

from zkcheck.errors import InputError
from zkcheck.explorer import Bounds, Search, Trace
from zkcheck.explorer.model import Model, describe
from zkcheck.explorer.store import NO_PARENT
from zkcheck.explorer.trace import step as take_step

MAX_NODES = 500


def state_label(model: Model, state: Any) -> str:
    """A short multi-line label: per server (FLE) or per variable (other models)."""
    if type(model).__name__ == "FLEModel":
        from zkcheck.model import state as L
        from zkcheck.render.fle_decode import server

        lines = []
        for k, raw in enumerate(state[0]):
            s = server(raw)
            if not s.up:
                lines.append(f"{model.sids[k]}: down")  # type: ignore[attr-defined]
                continue
            leader = s.proposal[0] if s.state == L.LOOKING and s.proposal else (
                s.vote[0] if s.vote else "-")
            lines.append(f"{model.sids[k]}: {L.STATE_NAMES[s.state]} r{s.clock} "  # type: ignore[attr-defined]
                         f"v{leader} q{len(s.queue)}")
        return "\n".join(lines)
    view = describe(model, state)
    if isinstance(view, dict):
        return "\n".join(f"{k}={v}" for k, v in view.items())
    return str(view)


def _add(g: nx.MultiDiGraph, model: Model, state: Any) -> bytes:
    key = model.encode(state)
    if key not in g:
        if g.number_of_nodes() >= g.graph["max_nodes"]:
            raise InputError(f"the graph has more than {g.graph['max_nodes']} states; use a "
                             "smaller --radius/--depth or raise --max-nodes")
        g.add_node(key, state=state, label=state_label(model, state), trace=None)
    return key


def trace_neighbourhood(model: Model, trace: Trace, radius: int = 1,
                        max_nodes: int = MAX_NODES) -> nx.MultiDiGraph:
    """The trace's states and every state within ``radius`` steps of one of them."""
    g = nx.MultiDiGraph(max_nodes=max_nodes)
    keys = [_add(g, model, s) for s in trace.states]
    for index, key in enumerate(keys):
        if g.nodes[key]["trace"] is None:
            g.nodes[key]["trace"] = index
    for number, (label, _) in enumerate(trace.steps, start=1):
        g.add_edge(keys[number - 1], keys[number], label=label, trace=True)
    g.graph.update(initial=[keys[0]], final=keys[-1], loop=trace.loop_start)
    frontier = list(dict.fromkeys(keys))
    seen = set(frontier)
    for _ in range(radius):
        following = []
        for key in frontier:
            state = g.nodes[key]["state"]
            for label, successor in model.actions(state):
                target = _add(g, model, successor)
                on_trace = any(d.get("trace") and d["label"] == label
                               for d in g.get_edge_data(key, target, default={}).values())
                if not on_trace:
                    g.add_edge(key, target, label=label, trace=False)
                if target not in seen:
                    seen.add(target)
                    following.append(target)
        frontier = following
    return g


def explored_graph(model: Model, bounds: Bounds | None = None,
                   max_nodes: int = MAX_NODES) -> nx.MultiDiGraph:
    """The whole graph a breadth-first search explores within ``bounds``."""
    search = Search(model, bounds=bounds or Bounds(), record_graph=True)
    if bounds is None or bounds.max_states is None:
        search.bounds = Bounds(bounds.max_depth if bounds else None, max_nodes + 1,
                               bounds.max_seconds if bounds else None)
    search.run()
    if search.store.count > max_nodes:
        raise InputError(f"the explored graph has more than {max_nodes} states; bound it "
                         "(--depth) or raise --max-nodes")
    edges = search.graph()
    names = edges.label_names
    states: dict[int, Any] = {}
    inits = model.initial_states()
    for index in range(search.store.count):
        if int(search.store.parents[index]) == NO_PARENT:
            states[index] = inits[search.initial_index(index)]
    g = nx.MultiDiGraph(max_nodes=max_nodes)
    pending = list(zip(edges.sources.astype(int).tolist(), edges.targets.astype(int).tolist(),
                       edges.labels.astype(int).tolist(),
                       strict=True))
    while pending:  # edges are recorded level by level, so this settles in a few passes
        rest = []
        for src, dst, lid in pending:
            if src not in states:
                rest.append((src, dst, lid))
                continue
            states.setdefault(dst, take_step(model, states[src], names[lid]))
            g.add_edge(_add(g, model, states[src]), _add(g, model, states[dst]),
                       label=names[lid], trace=False)
        if len(rest) == len(pending):
            break
        pending = rest
    roots = []
    for index, state in states.items():
        key = _add(g, model, state)
        if int(search.store.parents[index]) == NO_PARENT:
            roots.append(key)
    g.graph.update(initial=roots, final=None, loop=None)
    return g


def graph_dot(g: nx.MultiDiGraph, title: str = "") -> graphviz.Digraph:
    """Draw the graph: the trace bold red, initial states doubled, the last trace state
    filled."""
    dot = graphviz.Digraph("states", graph_attr={
        "rankdir": "TB", "fontname": "Helvetica", "label": title, "labelloc": "t",
        "fontsize": "14"}, node_attr={"fontname": "Helvetica", "fontsize": "9",
                                      "shape": "box", "style": "rounded"},
        edge_attr={"fontname": "Helvetica", "fontsize": "8", "color": "#868e96",
                   "fontcolor": "#495057"})
    ids = {key: f"s{i}" for i, key in enumerate(g.nodes)}
    initial = set(g.graph.get("initial", []))
    final = g.graph.get("final")
    for key, data in g.nodes(data=True):
        attrs = {"class": "state"}
        if data.get("trace") is not None:
            attrs.update(color="#c92a2a", penwidth="2", **{"class": "state trace"})
        if key in initial:
            attrs["peripheries"] = "2"
        if key == final:
            attrs.update(style="rounded,filled", fillcolor="#ffc9c9")
        label = html.escape(data["label"]).replace("\n", "<BR ALIGN='LEFT'/>")
        prefix = f"<B>#{data['trace']}</B><BR ALIGN='LEFT'/>" if data.get("trace") is not None \
            else ""
        dot.node(ids[key], f"<{prefix}{label}<BR ALIGN='LEFT'/>>", **attrs)
    for a, b, data in g.edges(data=True):
        if data.get("trace"):
            dot.edge(ids[a], ids[b], label=data["label"], color="#c92a2a", fontcolor="#c92a2a",
                     penwidth="2", **{"class": "transition trace"})
        else:
            dot.edge(ids[a], ids[b], label=data["label"], **{"class": "transition"})
    return dot
