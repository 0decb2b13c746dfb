"""Trace files: a trace as JSON in the Informal Trace Format shape, and back.

``#meta`` carries what is needed to rebuild the model (model spec and options), ``vars``
names the variables of the readable view, and ``states`` holds one object per state with
its readable view, the raw state (``#raw``, nested lists) used to re-verify it, and the
action label that produced it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zkcheck.errors import InputError
from zkcheck.explorer import Trace
from zkcheck.explorer.model import Model, describe
from zkcheck.report import _jsonable


def _to_tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_to_tuple(v) for v in value)
    return value


def trace_document(
    model: Model, trace: Trace, model_spec: str, options: dict[str, Any], prop: str, status: str
) -> dict[str, Any]:
    states = []
    for index, state in enumerate(trace.states):
        view = describe(model, state)
        entry = dict(_jsonable(view)) if isinstance(view, dict) else {"state": _jsonable(view)}
        entry["#meta"] = {"index": index, "action": trace.steps[index - 1][0] if index else "Init"}
        entry["#raw"] = _jsonable(state)
        states.append(entry)
    first = describe(model, trace.initial)
    meta: dict[str, Any] = {
        "format": "ITF",
        "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
        "source": "zkcheck",
        "description": f"{status}: {prop}",
        "zkcheck": {"model": model_spec, "options": _jsonable(options), "property": prop,
                    "status": status},
    }
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
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a JSON trace file ({exc})") from None
    except (KeyError, TypeError, IndexError):
        raise InputError(f"{path}: not a zkcheck trace (missing #meta.zkcheck or states)") from None
    if not raw:
        raise InputError(f"{path}: the trace has no states")
    loop = document["#meta"].get("loop")
    trace = Trace(raw[0], tuple(zip(labels, raw[1:], strict=True)), loop_start=loop)
    return meta["model"], meta.get("options", {}), trace, meta
