"""A trace read as a story: lanes, one sentence per step, messages, marks and a table.

Every view (text, sequence chart, HTML step table) is drawn from this one structure, so
the FLE-specific reading of a trace is written once (``fle_story.py``) and any other model
gets a generic reading (``generic_story``): one lane per top-level variable of its
readable view, a mark wherever a value changes, no messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zkcheck.explorer import Trace
from zkcheck.explorer.model import Model, describe, explanation_of

VIOLATION, WITNESS = "violation", "witness"
BLAME = "blame"  # the mark kind of the server that breaks (or witnesses) the property


@dataclass
class Message:
    """One message from its send to its delivery or loss (step numbers; 0 = initial)."""

    src: str
    dst: str
    text: str
    sent: int
    delivered: int | None = None
    lost: int | None = None
    lost_reason: str = ""
    kind: str = "notification"  # "notification" | "zab"

    @property
    def in_flight(self) -> bool:
        return self.delivered is None and self.lost is None


@dataclass
class Mark:
    """A box on a lane at a step: a state change, crash, restart, established epoch..."""

    step: int
    lane: str
    text: str
    kind: str = "change"  # change | state | crash | restart | epoch | link | note


@dataclass
class Step:
    """One step: its action label, the action in words, and what changed (grouped)."""

    number: int
    label: str
    sentence: str
    lane: str | None = None
    changes: dict[str, list[str]] = field(default_factory=dict)  # group -> "field: a -> b"


@dataclass
class Story:
    title: str
    lanes: list[tuple[str, str]]  # (key, heading)
    columns: list[str]  # table columns per lane
    steps: list[Step]  # index 0 is the initial state
    rows: list[dict[str, dict[str, str]]]  # per state: lane -> column -> text
    messages: list[Message] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    highlight: int | None = None  # the step whose state violates / witnesses the property
    highlight_kind: str = VIOLATION
    loop_start: int | None = None
    prop: str = ""
    status: str = ""
    summary: str = ""  # one line: what the final (highlighted) state shows
    detail: str = ""  # the full configuration line (model summary), for reports
    extra_rows: dict[str, list[str]] = field(default_factory=dict)  # name -> text per state
    down: set[tuple[str, int]] = field(default_factory=set)  # (lane, state) while not running
    statement: str = ""  # what the property requires (one paragraph)
    why: dict[str, Any] | None = None  # the property's explanation of this trace

    @property
    def statement_text(self) -> str:
        """The statement, led by the property's name (descriptions often start with it)."""
        if not self.statement or self.statement.startswith(self.prop):
            return self.statement
        return f"{self.prop}: {self.statement}"

    def changed(self, number: int, lane: str, column: str) -> bool:
        """Whether a table cell differs from the previous state (for highlighting)."""
        if number == 0:
            return False
        before = self.rows[number - 1].get(lane, {}).get(column)
        return before != self.rows[number].get(lane, {}).get(column)


def flatten(view: Any, prefix: str = "") -> dict[str, str]:
    """A readable view as ``path -> text``, so a step can show only what changed."""
    if isinstance(view, dict):
        flat: dict[str, str] = {}
        for key, value in view.items():
            flat.update(flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip(".") or "state": _text(view)}


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if value is None:
        return "-"
    return str(value)


def diff_groups(before: dict[str, str], after: dict[str, str],
                group_depth: int = 1) -> dict[str, list[str]]:
    """Changed paths grouped by their first ``group_depth`` components."""
    groups: dict[str, list[str]] = {}
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key, "-"), after.get(key, "-")
        if old == new:
            continue
        parts = key.split(".")
        group = ".".join(parts[:group_depth]) if len(parts) > group_depth else ""
        rest = ".".join(parts[group_depth:]) if group else key
        groups.setdefault(group, []).append(f"{rest}: {old} -> {new}")
    return groups


def outcome(trace: Trace, status: str) -> tuple[int | None, str]:
    """Which step to highlight and how: the last state of a violation or witness."""
    if not status or trace.loop_start is not None:
        return None, VIOLATION  # a lasso: the loop is the evidence, not one state
    kind = WITNESS if status.startswith("witness") else VIOLATION
    return len(trace.steps), kind


def generic_story(model: Model, trace: Trace, prop: str = "", status: str = "") -> Story:
    """Lanes = top-level variables of the readable view; a mark where one changes."""
    views = [describe(model, s) for s in trace.states]
    if all(isinstance(v, dict) for v in views):
        keys = list(dict.fromkeys(k for v in views for k in v))
        rows = [{str(k): flatten({"value": v.get(k)}) if not isinstance(v.get(k), dict)
                 else flatten(v.get(k)) for k in keys} for v in views]
    else:
        keys = ["state"]
        rows = [{"state": {"value": _text(v)}} for v in views]
    lanes = [(str(k), str(k)) for k in keys]
    columns = list(dict.fromkeys(c for row in rows for cells in row.values() for c in cells))
    steps = [Step(0, "Init", "initial state")]
    marks: list[Mark] = []
    for number, (label, _) in enumerate(trace.steps, start=1):
        changes: dict[str, list[str]] = {}
        for lane, _heading in lanes:
            before, after = rows[number - 1].get(lane, {}), rows[number].get(lane, {})
            changed = [c for c in columns if before.get(c) != after.get(c)]
            if not changed:
                continue
            changes[lane] = [f"{c}: {before.get(c, '-')} -> {after.get(c, '-')}"
                             if c != "value" else f"{before.get(c, '-')} -> {after.get(c, '-')}"
                             for c in changed]
            text = ", ".join(after.get(c, "-") if c == "value" else f"{c}={after.get(c, '-')}"
                             for c in changed)
            marks.append(Mark(number, lane, text))
        actor = next((lane for lane, _ in lanes if label.startswith(lane)), None)
        steps.append(Step(number, label, "", actor, changes))
    for lane, _ in lanes:
        first = rows[0].get(lane, {})
        marks.append(Mark(0, lane, ", ".join(
            v if c == "value" else f"{c}={v}" for c, v in first.items()), "state"))
    highlight, kind = outcome(trace, status)
    return Story(
        title=getattr(model, "name", "model"), lanes=lanes, columns=columns, steps=steps,
        rows=rows, marks=marks, highlight=highlight, highlight_kind=kind,
        loop_start=trace.loop_start, prop=prop, status=status,
    )


def story_of(model: Model, trace: Trace, prop: str = "", status: str = "") -> Story:
    """The FLE reading for the FLE model, the generic one for anything else; with the
    property's statement and its explanation of the trace (a mark on each server it names,
    at the step it names)."""
    if hasattr(model, "sids") and type(model).__name__ == "FLEModel":
        from zkcheck.render.fle_story import fle_story

        story = fle_story(model, trace, prop, status)
    else:
        story = generic_story(model, trace, prop, status)
    explain(story, model, trace)
    return story


def explain(story: Story, model: Model, trace: Trace) -> None:
    """Add the property's statement and explanation to ``story`` (when it has them)."""
    properties = getattr(model, "properties", None)  # a trace view may have none
    if not story.prop or properties is None:
        return
    prop = next((p for p in properties() if p.name == story.prop), None)
    if prop is None:
        return
    story.statement = " ".join(prop.description.split())
    if story.status not in ("violated", "witness found"):
        return
    why = explanation_of(prop, trace)
    if not why:
        return
    story.why = why
    lanes = {lane for lane, _ in story.lanes}
    broke = story.status == "violated"
    word = ("breaks " if broke else "shows ") + story.prop
    if trace.loop_start is not None:
        word = f"{story.prop}: stuck from here"
    for server in why.get("servers", []):
        if str(server) in lanes:
            story.marks.append(Mark(why["step"], str(server),
                                    ("\u2717 " if broke else "\u2713 ") + word, BLAME))
