"""The HTML report: one self-contained file (inline CSS and SVG, no script, no network).

It shows the run that produced the trace (verdicts, bounds, coverage, statistics, states
per BFS level), the sequence chart, a step table (per server: state, round, vote, recvset
... with every cell that changed in that step highlighted) and the text view.
"""

from __future__ import annotations

import html
import re
from typing import Any

from zkcheck.render.story import VIOLATION, Story
from zkcheck.render.text import story_lines

CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #212529; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #dee2e6; }
.detail { color: #495057; font-size: .9em; }
.outcome { padding: .5em .8em; border-radius: 4px; margin: .8em 0; font-weight: bold; }
.outcome.violation { background: #ffe3e3; border: 1px solid #c92a2a; color: #a61e1e; }
.outcome.witness { background: #d3f9d8; border: 1px solid #2b8a3e; color: #1f6d2f; }
.why { padding: .5em .8em; border-left: 4px solid #c92a2a; background: #fff5f5; margin: .8em 0; }
.why.witness { border-color: #2b8a3e; background: #ebfbee; }
.statement { max-width: 60em; }
table { border-collapse: collapse; font-size: .82em; }
th, td { border: 1px solid #dee2e6; padding: 2px 6px; vertical-align: top; }
th { background: #f1f3f5; }
table.kv td:first-child { font-weight: bold; background: #f8f9fa; }
table.steps { table-layout: fixed; width: 100%; font-size: .74em; }
.steps td { overflow-wrap: anywhere; }
.steps td div { margin: 0 0 1px 0; }
.steps td div.chg { background: #fff3bf; font-weight: bold; }
.steps td.blame { outline: 3px solid #c92a2a; outline-offset: -3px; }
.steps td .k { color: #868e96; }
.steps tr.hl td { border-top: 2px solid #c92a2a; border-bottom: 2px solid #c92a2a; }
.steps tr.hl.witness td { border-color: #2b8a3e; }
.steps tr.loop td.num { background: #e7f5ff; }
.steps th.lane { background: #343a40; color: white; }
.scroll { overflow-x: auto; max-width: 100%; }
.chart svg { max-width: 100%; height: auto; }
.violated, .witness-not-found { color: #c92a2a; font-weight: bold; }
.holds, .witness-found { color: #2b8a3e; font-weight: bold; }
pre { background: #f8f9fa; padding: .6em; font-size: .8em; overflow-x: auto; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def inline_svg(svg: str) -> str:
    """An SVG document from ``dot`` stripped of its XML prolog, ready to inline."""
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg, flags=re.S)
    return re.sub(r"<!--.*?-->", "", svg, flags=re.S).strip()


def _levels_svg(levels: list[int]) -> str:
    """A small bar chart of states per BFS level (log-free: bars scaled to the largest)."""
    if not levels:
        return ""
    width, height, top = 14, 90, max(levels) or 1
    bars = []
    for i, count in enumerate(levels):
        h = max(1, round(height * count / top))
        bars.append(f"<rect x='{i * width}' y='{height - h}' width='{width - 2}' height='{h}' "
                    f"fill='#4dabf7'><title>depth {i}: {count:,} states</title></rect>")
    total = len(levels) * width
    return (f"<svg class='levels' xmlns='http://www.w3.org/2000/svg' width='{total}' "
            f"height='{height + 14}' viewBox='0 0 {total} {height + 14}'>" + "".join(bars)
            + f"<text x='0' y='{height + 12}' font-size='10'>depth 0</text>"
            + f"<text x='{total}' y='{height + 12}' font-size='10' text-anchor='end'>"
            f"{len(levels) - 1}</text></svg>")


def _run_section(run: dict[str, Any]) -> str:
    parts = ["<h2>Run</h2>"]
    rows = "".join(
        f"<tr><td>{_e(v['property'])}</td><td>{_e(v['kind'])}</td>"
        f"<td class='{_e(v['status'].replace(' ', '-'))}'>{_e(v['status'])}</td>"
        f"<td>{'' if v.get('length') is None else _e(v['length'])}</td>"
        f"<td>{_e(v.get('note', ''))}</td></tr>" for v in run.get("verdicts", []))
    parts.append("<table class='verdicts'><tr><th>property</th><th>kind</th><th>verdict</th>"
                 f"<th>trace steps</th><th>note</th></tr>{rows}</table>")
    b = run.get("bounds", {})
    limits = ", ".join(f"{name} {b[key]}" for key, name in (
        ("max_depth", "depth"), ("max_states", "states"), ("max_seconds", "seconds"))
        if b.get(key) is not None) or "none"
    coverage = ("complete: every reachable state was explored" if run.get("complete")
                else "INCOMPLETE: " + "; ".join(run.get("bounds_hit", [])))
    s = run.get("stats", {})
    kv = [("search", run.get("search", "")), ("bounds", limits), ("coverage", coverage),
          ("distinct states", f"{s.get('distinct_states', 0):,}"),
          ("generated states", f"{s.get('generated_states', 0):,}"),
          ("max depth", f"{s.get('max_depth', '')}" + (
              f" ({s['depth_measure']})" if s.get("depth_measure") else "")),
          ("time", f"{s.get('elapsed_seconds', 0)} s ({s.get('states_per_second', 0):,} "
                   "states/s)")]
    if s.get("deadlocks") is not None:
        kv.append(("deadlocked states", s["deadlocks"]))
    fired = (run.get("coverage") or {}).get("transitions_per_action_kind")
    if fired:
        kv.append(("actions fired", ", ".join(f"{k} {v:,}" for k, v in fired.items())))
        never = run["coverage"].get("never_fired")
        if never is not None:
            kv.append(("actions never fired", ", ".join(never) or "none"))
    parts.append("<table class='kv'>" + "".join(
        f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in kv) + "</table>")
    levels = s.get("levels") or []
    if levels:
        parts.append("<h3>States per BFS level</h3><div class='scroll'>" + _levels_svg(levels)
                     + "</div><p class='detail'>" + " ".join(f"{n:,}" for n in levels) + "</p>")
    return "\n".join(parts)


def _field(name: str, value: str, changed: bool) -> str:
    cls = " class='chg'" if changed else ""
    return f"<div{cls}><span class='k'>{_e(name)}</span> {_e(value)}</div>"


def _step_table(story: Story) -> str:
    """One row per state and one cell per server (its fields one per line, changed ones
    highlighted), so the table fits the window for five servers: fixed layout, wrapping."""
    cols = story.columns
    extra = list(story.extra_rows)
    with_say = any(step.sentence for step in story.steps)
    widths = ["2.4em", "8em"] + (["17em"] if with_say else []) + [""] * len(story.lanes)
    widths += ["14em"] if extra else []
    colgroup = "<colgroup>" + "".join(
        f"<col style='width: {w}'>" if w else "<col>" for w in widths) + "</colgroup>"
    head = "<tr><th>#</th><th>action</th>" + ("<th>what happens</th>" if with_say else "")
    head += "".join(f"<th class='lane'>{_e(h)}</th>" for _, h in story.lanes)
    head += "<th class='lane'>network and history</th>" if extra else ""
    head += "</tr>"
    blamed = set()
    if story.why is not None:
        blamed = {(story.why["step"], str(s)) for s in story.why.get("servers", [])}
    body = []
    for step in story.steps:
        n = step.number
        classes = []
        if n == story.highlight:
            classes.append("hl" + ("" if story.highlight_kind == VIOLATION else " witness"))
        if story.loop_start is not None and n > story.loop_start:
            classes.append("loop")
        cells = [f"<td class='num'>{n}</td><td>{_e(step.label if n else 'initial state')}</td>"]
        if with_say:
            cells.append(f"<td class='say'>{_e(step.sentence)}</td>")
        for lane, _ in story.lanes:
            values = story.rows[n].get(lane, {})
            lines = "".join(_field(c, values[c], story.changed(n, lane, c))
                            for c in cols if values.get(c, "") not in ("", "-"))
            cls = " class='blame'" if (n, lane) in blamed else ""
            cells.append(f"<td{cls}>{lines}</td>")
        if extra:
            cells.append("<td>" + "".join(
                _field(name, story.extra_rows[name][n],
                       bool(n) and story.extra_rows[name][n] != story.extra_rows[name][n - 1])
                for name in extra if story.extra_rows[name][n] not in ("", "-")) + "</td>")
        body.append(f"<tr class='{' '.join(classes)}'>" + "".join(cells) + "</tr>")
    return "<table class='steps'>" + colgroup + head + "\n".join(body) + "</table>"


def html_report(story: Story, chart_svg: str | None, run: dict[str, Any] | None = None,
                command: str = "") -> str:
    """The report as one HTML document (a string)."""
    title = f"{story.prop}: {story.status}" if story.prop else "trace"
    kind = "violation" if story.highlight_kind == VIOLATION else "witness"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>zkcheck: {_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>zkcheck: {_e(title)}</h1>",
        f"<p class='detail'>{_e(story.detail or story.title)}</p>",
    ]
    if command:
        parts.append(f"<p class='detail'>command: <code>{_e(command)}</code></p>")
    outcome = f"{len(story.steps) - 1} steps"
    if story.loop_start is not None:
        outcome += (f": a lasso, steps {story.loop_start + 1}..{len(story.steps) - 1} repeat "
                    "forever")
    if story.summary:
        outcome += f" -- {story.summary}"
    parts.append(f"<div class='outcome {kind}'>{_e(outcome)}</div>")
    if story.why is not None:
        where = (f"step {story.why['step']}" if story.why["step"] else "the initial state")
        servers = ", ".join(map(str, story.why.get("servers", [])))
        parts.append(f"<div class='why {kind}'><b>Why ({_e(where)}"
                     + (f", server {_e(servers)}" if servers else "") + "):</b> "
                     + _e(story.why["text"]) + "</div>")
    if story.statement:
        parts.append(f"<p class='statement'><b>Property</b> {_e(story.statement_text)}</p>")
    if run:
        parts.append(_run_section(run))
    if chart_svg:
        parts.append("<h2>Sequence chart</h2><div class='chart scroll'>"
                     + inline_svg(chart_svg) + "</div>")
    parts.append("<h2>Steps</h2>")
    parts.append("<p class='detail'>Highlighted lines changed in that step; the outlined "
                 "cell is the server that breaks (or witnesses) the property.</p>")
    parts.append(_step_table(story))
    parts.append("<h2>Text view</h2><pre>" + _e("\n".join(story_lines(story))) + "</pre>")
    parts.append("<p class='detail'>generated by zkcheck</p></body></html>")
    return "\n".join(parts)
