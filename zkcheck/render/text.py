"""The text view of a trace: per step the action in words, then only what changed."""

from __future__ import annotations

import textwrap
from typing import Any

from zkcheck.explorer import Trace
from zkcheck.render.story import Story, story_of


def story_lines(story: Story, indent: str = "  ") -> list[str]:
    """Numbered steps; each with its sentence and the changed fields grouped per server."""
    lines = []
    width = len(str(len(story.steps) - 1))
    pad = indent + " " * (width + 2)
    if story.statement:
        lines.extend(textwrap.wrap(story.statement_text, 100,
                                   initial_indent=f"{indent}property: ",
                                   subsequent_indent=indent + "  "))
    why = story.why
    if why is not None and why.get("step") == 0:
        lines.extend(_why_lines(why, indent))
    for step in story.steps[1:]:
        marker = ""
        if step.number == story.highlight:
            marker = "  <== VIOLATION" if story.highlight_kind == "violation" else "  <== WITNESS"
        if story.loop_start is not None and step.number == story.loop_start + 1:
            lines.append(f"{indent}-- loop starts here (back to the state after step "
                         f"{story.loop_start}) --")
        text = f"[{step.label}] {step.sentence}" if step.sentence else step.label
        lines.append(f"{indent}{step.number:>{width}}. {text}{marker}")
        for group, changes in step.changes.items():
            head = f"{group}: " if group else ""
            for number, change in enumerate(changes):
                prefix = head if number == 0 else " " * len(head)
                lines.append(f"{pad}{prefix}{change}")
        if why is not None and why.get("step") == step.number and step.number:
            lines.extend(_why_lines(why, pad))
    if story.loop_start is not None:
        lines.append(f"{indent}(then back to the state after step {story.loop_start}: the loop "
                     "repeats forever)")
    if story.summary:
        lines.append(f"{indent}{story.summary}")
    return lines


def _why_lines(why: dict[str, Any], indent: str) -> list[str]:
    return textwrap.wrap(why["text"], 100, initial_indent=f"{indent}why: ",
                         subsequent_indent=indent + "     ")


def trace_view(model: Any, trace: Trace, prop: str = "", status: str = "") -> list[str]:
    """The text view for any model (FLE-aware for the FLE model), used by the reports."""
    return story_lines(story_of(model, trace, prop, status))
