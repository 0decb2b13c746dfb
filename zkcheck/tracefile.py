"""Trace files: a trace as JSON in the Informal Trace Format shape, and back.

``#meta`` carries what is needed to rebuild the model (model spec and options) and,
when the trace comes from a search, a summary of that run (verdicts, bounds, statistics,
states per BFS level) so that ``zkcheck render`` can rebuild the full HTML report from
the file alone. ``vars`` names the variables of the readable view, and ``states`` holds
one object per state with its readable view, the raw state (``#raw``, nested lists) used
to re-verify it, and in ``#meta`` the action label that produced it and that action in
words. ``#meta.loop`` is the index of the state a liveness lasso returns to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zkcheck.errors import InputError
from zkcheck.explorer import Result, Trace
from zkcheck.explorer.model import Model, describe
from zkcheck.report import jsonable


def _to_tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_to_tuple(v) for v in value)
    return value


def run_summary(result: Result) -> dict[str, Any]:
    """What the HTML report shows about the run that produced a trace (JSON-able)."""
    from zkcheck.report import depth_measure

    stats = result.stats
    bounds = result.bounds
    return {
        "model": result.model,
        "search": result.search,
        "bounds": {"max_depth": bounds.max_depth, "max_states": bounds.max_states,
                   "max_seconds": bounds.max_seconds},
        "complete": result.complete,
        "bounds_hit": [hit.describe() for hit in result.bounds_hit],
        "verdicts": [{"property": v.name, "kind": v.kind.value, "status": v.status,
                      "length": len(v.trace) if v.trace is not None else None,
                      "note": v.note, "description": v.description}
                     for v in result.verdicts.values()],
        "stats": {"distinct_states": stats.distinct, "generated_states": stats.generated,
                  "max_depth": stats.max_depth, "depth_measure": depth_measure(result),
                  "elapsed_seconds": round(stats.elapsed, 3),
                  "states_per_second": round(stats.states_per_second, 1),
                  "deadlocks": stats.deadlocks if result.check_deadlock else None,
                  "levels": list(stats.levels)},
        "coverage": result.extra.get("coverage"),
    }


def trace_document(
    model: Model, trace: Trace, model_spec: str, options: dict[str, Any], prop: str, status: str,
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from zkcheck.render.story import story_of

    story = story_of(model, trace, prop, status)
    states = []
    for index, state in enumerate(trace.states):
        view = describe(model, state)
        entry = dict(jsonable(view)) if isinstance(view, dict) else {"state": jsonable(view)}
        step_meta: dict[str, Any] = {"index": index,
                                     "action": trace.steps[index - 1][0] if index else "Init"}
        if index and story.steps[index].sentence:
            step_meta["text"] = story.steps[index].sentence
        entry["#meta"] = step_meta
        entry["#raw"] = jsonable(state)
        states.append(entry)
    first = describe(model, trace.initial)
    meta: dict[str, Any] = {
        "format": "ITF",
        "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
        "source": "zkcheck",
        "description": f"{status}: {prop}",
        "zkcheck": {"model": model_spec, "options": jsonable(options), "property": prop,
                    "status": status},
    }
    if getattr(model, "summary", None):
        meta["zkcheck"]["summary"] = model.summary  # type: ignore[attr-defined]
    if run is not None:
        meta["zkcheck"]["run"] = run
    if trace.loop_start is not None:
        meta["loop"] = trace.loop_start
    return {
        "#meta": meta,
        "vars": list(first) if isinstance(first, dict) else ["state"],
        "states": states,
    }


def write_trace(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1) + "\n")


def read_trace(path: Path) -> tuple[str, dict[str, Any], Trace, dict[str, Any]]:
    """(model spec, model options, trace, meta) from a trace file; InputError if unusable."""
    try:
        document = json.loads(path.read_text())
        meta = document["#meta"]["zkcheck"]
        states = document["states"]
        raw = [_to_tuple(s["#raw"]) for s in states]
        labels = [s["#meta"]["action"] for s in states[1:]]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a trace file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a JSON trace file ({exc})") from None
    except (KeyError, TypeError, IndexError):
        raise InputError(f"{path}: not a zkcheck trace (missing #meta.zkcheck or states)") from None
    if not raw:
        raise InputError(f"{path}: the trace has no states")
    loop = document["#meta"].get("loop")
    if loop is not None and not (isinstance(loop, int) and 0 <= loop < len(raw)):
        raise InputError(f"{path}: #meta.loop {loop!r} is not a state index")
    trace = Trace(raw[0], tuple(zip(labels, raw[1:], strict=True)), loop_start=loop)
    return meta["model"], meta.get("options", {}), trace, meta
