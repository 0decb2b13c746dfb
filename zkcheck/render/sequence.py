"""The sequence chart of a story, as Graphviz DOT (rendered to SVG/PNG by Debian's ``dot``).

Layout: a grid. Row ``r`` is the state after step ``r`` (row 0 the initial state), every
row is one ``rank=same`` group holding a step cell on the left and one node per lane; the
lanes are chains of heavy vertical edges, so time runs top to bottom. A lane node is an
invisible point unless something happens to that lane at that step (then it is a box),
and messages are ``constraint=false`` edges from the sender's node at the sending step to
the receiver's node at the delivery step, so they never disturb the grid.

Every message edge carries ``class="msg delivered"``, ``"msg lost"`` or ``"msg inflight"``
and every lane node ``class="lane <key>"`` (also in the SVG), which the tests count.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import textwrap
from pathlib import Path

import graphviz

from zkcheck.errors import InputError
from zkcheck.render.story import VIOLATION, Mark, Message, Story

FONT = "Helvetica"
LANE_COLOR = "#9aa5b1"
MARK_STYLE = {  # kind -> (fill, border)
    "state": ("#eef2f7", "#52606d"),
    "change": ("#fff7d6", "#b08800"),
    "leading": ("#d3f9d8", "#2b8a3e"),
    "following": ("#d0ebff", "#1864ab"),
    "looking": ("#f1f3f5", "#495057"),
    "crash": ("#ffe3e3", "#c92a2a"),
    "restart": ("#e6fcf5", "#087f5b"),
    "epoch": ("#e5dbff", "#5f3dc4"),
    "link": ("#fff4e6", "#d9480f"),
    "note": ("#f8f9fa", "#868e96"),
    "vote": ("#fff9db", "#e67700"),
    "send": ("#ffffff", "#ced4da"),
    "blame": ("#ffc9c9", "#c92a2a"),
}
MSG_COLOR = {"notification": "#1c7ed6", "reply": "#0c8599", "zab": "#7048e8"}
LOST_COLOR = "#e03131"
HIGHLIGHT = {"violation": ("#ffc9c9", "#c92a2a"), "witness": ("#b2f2bb", "#2b8a3e")}


def _id(lane: str, row: int) -> str:
    return f"n_{_safe(lane)}_{row}"


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _node_label(marks: list[Mark], sends: list[Message]) -> str:
    """A lane box: what happened (black), then what was sent (``-> dst: text``, coloured)."""
    lines = [_esc(m.text).replace("\n", "<BR/>") for m in marks]
    for m in sends:
        color = MSG_COLOR.get(m.kind, MSG_COLOR["notification"])
        lines.append(f"<FONT COLOR='{color}' POINT-SIZE='10'>&#8594; {_esc(m.dst)}: "
                     f"{_esc(m.text)}</FONT>")
    return "<" + "<BR/>".join(lines) + ">"


def sequence_chart(story: Story, max_steps: int | None = None) -> graphviz.Digraph:
    """The chart as a ``graphviz.Digraph`` (``.source`` is the DOT text)."""
    last = len(story.steps) - 1
    if max_steps is not None and last > max_steps:
        raise InputError(f"the trace has {last} steps; the chart is limited to {max_steps} "
                         "(use --max-steps)")
    end = last + 1  # an extra row for messages still in flight at the end
    title = story.title + (f" -- {story.prop}: {story.status}" if story.prop else "")
    g = graphviz.Digraph("sequence", graph_attr={
        "rankdir": "TB", "splines": "false", "nodesep": "0.35", "ranksep": "0.18",
        "fontname": FONT, "fontsize": "16", "labelloc": "t", "label": title,
        "newrank": "true", "forcelabels": "true", "bgcolor": "white", "pad": "0.3",
    }, node_attr={"fontname": FONT, "fontsize": "11"}, edge_attr={"fontname": FONT,
                                                                   "fontsize": "9"})
    marks: dict[tuple[str, int], list[Mark]] = {}
    for mark in story.marks:
        marks.setdefault((mark.lane, mark.step), []).append(mark)
    touched = {(m.dst, m.delivered) for m in story.messages if m.delivered is not None}
    touched |= {(m.dst, m.lost) for m in story.messages if m.lost is not None}
    sends: dict[tuple[str, int], list[Message]] = {}
    for message in story.messages:
        sends.setdefault((message.src, message.sent), []).append(message)
    # header row
    with g.subgraph() as row:
        row.attr(rank="same")
        row.node("h_time", "step", shape="plaintext", fontsize="12")
        for lane, heading in story.lanes:
            row.node(f"h_{_safe(lane)}", heading, shape="box", style="rounded,filled,bold",
                     fillcolor="#343a40", fontcolor="white", fontsize="13",
                     **{"class": f"lanehead {lane}"})
    for r in range(end + 1):
        with g.subgraph() as row:
            row.attr(rank="same")
            row.node(f"t_{r}", _step_cell(story, r, end), shape="plaintext",
                     **({"class": "step"} if r < end else {}))
            for lane, _ in story.lanes:
                _lane_node(row, story, lane, r, end, marks.get((lane, r), []),
                           sends.get((lane, r), []), (lane, r) in touched)
    # vertical lanes and the step column
    g.edge("h_time", "t_0", style="invis", weight="100")
    for r in range(end):
        g.edge(f"t_{r}", f"t_{r + 1}", style="invis", weight="100")
    for lane, _ in story.lanes:
        g.edge(f"h_{_safe(lane)}", _id(lane, 0), arrowhead="none", color=LANE_COLOR,
               penwidth="2", weight="100")
        for r in range(end):
            down = (lane, r) in story.down
            g.edge(_id(lane, r), _id(lane, r + 1), arrowhead="none", color=LANE_COLOR,
                   penwidth="1" if down else "2", weight="100",
                   style="dashed" if down else "solid")
    # left-to-right order of the columns
    order = ["time"] + [_safe(lane) for lane, _ in story.lanes]
    for a, b in zip(order, order[1:], strict=False):
        g.edge(f"h_{a}", f"h_{b}", style="invis")
    for message in story.messages:
        _message_edge(g, message, end)
    _legend(g, story, end)
    return g


def _step_cell(story: Story, r: int, end: int) -> str:
    if r == end:
        return "<<FONT COLOR='#868e96'>end</FONT>>"
    step = story.steps[r]
    label = _esc(step.label if r else "initial state")
    number = f"<B>{r}</B>" if r else "<B>0</B>"
    color = "#212529"
    extra = ""
    if r == story.highlight:
        fill, border = HIGHLIGHT[story.highlight_kind]
        word = "VIOLATION" if story.highlight_kind == VIOLATION else "WITNESS"
        return (f"<<TABLE BORDER='1' CELLBORDER='0' COLOR='{border}' BGCOLOR='{fill}' "
                f"CELLPADDING='2'><TR><TD ALIGN='RIGHT'>{number} {label}</TD></TR>"
                f"<TR><TD ALIGN='RIGHT'><B><FONT COLOR='{border}'>{word}</FONT></B></TD></TR>"
                "</TABLE>>")
    if story.loop_start is not None and r == story.loop_start:
        extra = "<BR/><FONT COLOR='#c92a2a'>loop starts here</FONT>"
    return f"<<FONT COLOR='{color}'>{number} {label}</FONT>{extra}>"


def _lane_node(row: graphviz.Digraph, story: Story, lane: str, r: int, end: int,
               marks: list[Mark], sends: list[Message], touched: bool) -> None:
    node = _id(lane, r)
    cls = {"class": f"lane {lane}"}
    if (marks or sends) and r < end:
        kind = max((m.kind for m in marks), key=_priority, default="send")
        fill, border = MARK_STYLE.get(kind, MARK_STYLE["change"])
        width = "1"
        if r == story.highlight and marks:
            border, width = HIGHLIGHT[story.highlight_kind][1], "3"
        row.node(node, _node_label(marks, sends), shape="box", style="rounded,filled",
                 fillcolor=fill, color=border, penwidth=width, margin="0.08,0.03", **cls)
    elif touched or r == end:
        row.node(node, "", shape="point", width="0.08", color=LANE_COLOR, **cls)
    else:
        row.node(node, "", shape="point", width="0.03", color=LANE_COLOR, **cls)


PRIORITY = ("blame", "crash", "leading", "following", "looking", "restart", "epoch", "link", "vote",
            "change", "note", "state")


def _priority(kind: str) -> int:
    """Which mark decides a shared box's colour: the most important one."""
    return len(PRIORITY) - PRIORITY.index(kind) if kind in PRIORITY else 0


def _message_edge(g: graphviz.Digraph, m: Message, end: int) -> None:
    color = MSG_COLOR.get(m.kind, MSG_COLOR["notification"])
    tail = _id(m.src, m.sent)
    attrs = {"constraint": "false", "color": color, "fontcolor": color, "penwidth": "1.3",
             "arrowsize": "0.7"}
    if m.delivered is not None:
        g.edge(tail, _id(m.dst, m.delivered), tooltip=m.text, **attrs,
               **{"class": f"msg delivered {m.kind}"})
    elif m.lost is not None:
        g.edge(tail, _id(m.dst, m.lost), headlabel=f"lost: {m.lost_reason}",
               tooltip=f"{m.text} LOST ({m.lost_reason})", labelfontsize="9",
               style="dashed", color=LOST_COLOR, fontcolor=LOST_COLOR, arrowhead="tee",
               constraint="false", penwidth="1.3", **{"class": f"msg lost {m.kind}"})
    else:
        g.edge(tail, _id(m.dst, end), tooltip=f"{m.text} (still in flight)", style="dotted",
               **attrs, **{"class": f"msg inflight {m.kind}"})


def _legend(g: graphviz.Digraph, story: Story, end: int) -> None:
    kinds = {m.kind for m in story.marks}
    rows = []
    names = {"state": "initial state", "change": "value changed", "leading": "becomes LEADING",
             "following": "becomes FOLLOWING", "looking": "back to LOOKING",
             "crash": "crash (the lane is dashed while the server is down)", "restart": "restart",
             "epoch": "epoch accepted / established", "link": "link down / up",
             "note": "note", "vote": "vote changed",
             "blame": "the server and step that break the property (see why)"}
    for kind in MARK_STYLE:
        if kind in kinds:
            fill, border = MARK_STYLE[kind]
            rows.append(f"<TR><TD BGCOLOR='{fill}' BORDER='1' COLOR='{border}' WIDTH='28'> </TD>"
                        f"<TD ALIGN='LEFT'>{names[kind]}</TD></TR>")
    msg_kinds = {m.kind for m in story.messages}
    texts = {"notification": "election notification (leader, zxid, round, peerEpoch)",
             "reply": "reply of the WorkerReceiver (leader, zxid, round, peerEpoch)",
             "zab": "Zab message"}
    for kind in MSG_COLOR:
        if kind in msg_kinds:
            rows.append(f"<TR><TD><FONT COLOR='{MSG_COLOR[kind]}' POINT-SIZE='13'>"
                        "<B>&#8212;&#8212;&#9654;</B></FONT></TD>"
                        f"<TD ALIGN='LEFT'>{texts[kind]}</TD></TR>")
    if any(m.lost is not None for m in story.messages):
        rows.append(f"<TR><TD><FONT COLOR='{LOST_COLOR}' POINT-SIZE='13'><B>- - -|</B></FONT></TD>"
                    "<TD ALIGN='LEFT'>lost message (link down / crash emptied the wire)</TD></TR>")
    if any(m.in_flight for m in story.messages):
        rows.append("<TR><TD><FONT POINT-SIZE='13'><B>&#183;&#183;&#183;&#9654;</B></FONT></TD>"
                    "<TD ALIGN='LEFT'>still in flight at the end of the trace</TD></TR>")
    if story.highlight is not None:
        fill, border = HIGHLIGHT[story.highlight_kind]
        word = "violating state" if story.highlight_kind == VIOLATION else "witness state"
        rows.append(f"<TR><TD BGCOLOR='{fill}' BORDER='1' COLOR='{border}'> </TD>"
                    f"<TD ALIGN='LEFT'>{word}</TD></TR>")
    if not rows:
        return
    summary = (f"<TR><TD COLSPAN='2' ALIGN='LEFT'><B>{_esc(story.summary)}</B></TD></TR>"
               if story.summary else "")
    if story.statement:
        summary += _wrapped_row(story.statement_text)
    if story.why is not None:
        summary += _wrapped_row("why: " + story.why["text"], bold=True)
    label = ("<<TABLE BORDER='1' COLOR='#adb5bd' CELLBORDER='0' CELLSPACING='2' "
             f"CELLPADDING='2'><TR><TD COLSPAN='2'><B>legend</B></TD></TR>{summary}"
             + "".join(rows) + "</TABLE>>")
    g.node("legend", label, shape="plaintext", fontsize="10", **{"class": "legend"})
    g.edge(f"t_{end}", "legend", style="invis")


def _wrapped_row(text: str, bold: bool = False, width: int = 90) -> str:
    """A legend row holding a long text, broken into lines (dot does not wrap)."""
    lines = "<BR ALIGN='LEFT'/>".join(_esc(line) for line in textwrap.wrap(text, width))
    if bold:
        lines = f"<B>{lines}</B>"
    return f"<TR><TD COLSPAN='2' ALIGN='LEFT'>{lines}<BR ALIGN='LEFT'/></TD></TR>"


# ---------------------------------------------------------------------- output


FORMATS = ("dot", "svg", "png")


def dot_available() -> bool:
    return shutil.which("dot") is not None


def render_bytes(graph: graphviz.Digraph, fmt: str) -> bytes:
    """DOT text, or SVG/PNG produced by the ``dot`` program."""
    if fmt == "dot":
        return graph.source.encode()
    if fmt not in FORMATS:
        raise InputError(f"unknown chart format {fmt!r} (dot, svg, png)")
    if not dot_available():
        raise InputError("Graphviz 'dot' is not installed (make system installs it)")
    try:
        return subprocess.run(["dot", f"-T{fmt}"], input=graph.source.encode(),
                              capture_output=True, check=True, timeout=300).stdout
    except subprocess.CalledProcessError as exc:
        raise InputError(f"dot failed: {exc.stderr.decode(errors='replace').strip()}") from None


def write_chart(graph: graphviz.Digraph, path: Path, fmt: str) -> None:
    path.write_bytes(render_bytes(graph, fmt))
