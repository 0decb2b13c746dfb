"""Reporters: a Result as text for people and as one JSON document for programs."""

from __future__ import annotations

from typing import Any

from zkcheck.explorer import Result, Trace, Verdict
from zkcheck.explorer.model import Model, describe
from zkcheck.progress import Projection, project
from zkcheck.render.text import trace_view


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


def state_object(model: Model, state: Any) -> Any:
    """A state as typed JSON: FLE's decoded fields, else the model's ``describe`` view."""
    inner = getattr(model, "_model", model)  # a model with a spec's extra properties
    if type(inner).__name__ == "FLEModel":
        from zkcheck.render.fle_json import state_json

        return state_json(state, inner.sids)
    return jsonable(describe(model, state))


def trace_to_dict(model: Model, trace: Trace) -> dict[str, Any]:
    """A trace with each state typed (``state``) and as the readable view (``view``)."""
    typed = type(getattr(model, "_model", model)).__name__ == "FLEModel"

    def entry(state: Any) -> dict[str, Any]:
        data = {"state": state_object(model, state)}
        if typed:
            data["view"] = jsonable(describe(model, state))
        return data

    data = {
        "length": len(trace),
        "initial": entry(trace.initial),
        "steps": [{"label": label, **entry(state)} for label, state in trace.steps],
    }
    if trace.loop_start is not None:
        data["loop_start"] = trace.loop_start
    return data


def depth_measure(result: Result) -> str:
    """What ``max depth`` counts in this run (it differs between searches)."""
    if result.search == "dfs":
        if result.bounds.max_depth is not None:
            return ("steps from an initial state along the shortest path found (depth-first "
                    "search with a depth bound re-expands states reached by shorter paths)")
        return ("steps from an initial state along the depth-first search tree (not "
                "shortest paths: breadth-first search gives those)")
    por = result.extra.get("por", {})
    if por.get("enabled"):
        return ("breadth-first levels of the reduced graph (a partial-order reduction step "
                "stays on its level, so traces can be longer than this)")
    if result.extra.get("simulation"):
        return "steps of the longest random walk"
    return "steps from an initial state along a shortest path (breadth-first levels)"


def result_to_dict(model: Model, result: Result, meta: dict[str, Any] | None = None) -> dict:
    """The typed fields of an explore or simulate document (the envelope is the
    command's: ``zkcheck.schema.envelope``)."""
    stats = result.stats
    return {
        "model": result.model,
        "config": meta or {},
        "search": result.search,
        "bounds": {
            "max_depth": result.bounds.max_depth,
            "max_states": result.bounds.max_states,
            "max_seconds": result.bounds.max_seconds,
        },
        "complete": result.complete,
        "bounds_hit": [
            {"bound": b.bound, "limit": b.limit, "frontier": b.frontier, "detail": b.detail}
            for b in result.bounds_hit
        ],
        "verdicts": [
            {
                "property": v.name,
                "kind": v.kind.value,
                "status": v.status,
                "statement": v.description,
                "note": v.note,
                "explanation": jsonable(v.explanation) if v.explanation else None,
                "trace": trace_to_dict(model, v.trace) if v.trace is not None else None,
            }
            for v in result.verdicts.values()
        ],
        "deadlocks": {
            "checked": result.check_deadlock,
            "count": stats.deadlocks,
            "trace": trace_to_dict(model, result.deadlock_trace)
            if result.deadlock_trace is not None
            else None,
        },
        "stats": {
            "distinct_states": stats.distinct,
            "generated_states": stats.generated,
            "max_depth": stats.max_depth,
            "depth_measure": depth_measure(result),
            "levels": stats.levels,
            "elapsed_seconds": round(stats.elapsed, 6),
            "states_per_second": round(stats.states_per_second, 1),
            "store_bytes": stats.store_bytes,
            "store_bytes_per_state": round(stats.bytes_per_state, 2),
            "fingerprint_collision_probability": stats.collision_probability,
            **_memory_dict(result),
        },
        "coverage": jsonable(result.extra.get("coverage")),
        "reductions": jsonable({k: v for k, v in result.extra.items() if k != "coverage"}),
        "projection": _projection_dict(result),
    }


def _memory_dict(result: Result) -> dict[str, Any]:
    """Resident memory and spill of a partitioned run (what the process really used)."""
    workers = result.extra.get("workers")
    if not workers:
        return {}
    distinct = max(result.stats.distinct, 1)
    return {"workers": workers["count"], "backend": workers["backend"],
            "resident_bytes_max": workers["rss_bytes_max"],
            "resident_bytes_per_state": round(workers["rss_bytes_max"] / distinct, 1),
            "spill_bytes_max": workers["spilled_bytes_max"],
            # every block is packed as the spill file holds it, in memory or not
            "spill_bytes_per_spilled_state": round(workers["spilled_bytes_per_state"], 2)}


def _projection_dict(result: Result) -> dict[str, Any] | None:
    rest = _projection(result)
    if rest is None:
        return None
    return {"growth_per_level": round(rest.growth, 4), "more_states": rest.states,
            "seconds": rest.seconds, "store_bytes": rest.store_bytes,
            "memory_bytes": rest.memory_bytes, "disk_bytes": rest.disk_bytes}


def to_json(model: Model, result: Result, meta: dict[str, Any] | None, command: str,
            exit_code: int) -> str:
    from zkcheck.schema import dumps, envelope

    return dumps(envelope(command, exit_code, **result_to_dict(model, result, meta)))


# ---------------------------------------------------------------------- text


def _verdict_line(v: Verdict) -> str:
    extra = f" at depth {len(v.trace)}" if v.trace is not None else ""
    if v.trace is not None and v.trace.loop_start is not None:
        loop = len(v.trace) - v.trace.loop_start
        extra = f": lasso of {v.trace.loop_start} prefix steps + a loop of {loop}"
    note = f" ({v.note})" if v.note else ""
    return f"  {v.name:<28} {v.kind.value:<9}  {v.status}{extra}{note}"


def result_text(model: Model, result: Result, header: list[str] | None = None) -> str:
    stats = result.stats
    lines = list(header or [])
    bounds = result.bounds
    limits = [
        f"depth {bounds.max_depth}" if bounds.max_depth is not None else None,
        f"states {bounds.max_states}" if bounds.max_states is not None else None,
        f"time {bounds.max_seconds}s" if bounds.max_seconds is not None else None,
    ]
    limits_text = ", ".join(x for x in limits if x) or "none"
    lines.append(f"search: {result.search}, bounds: {limits_text}")
    if result.complete:
        lines.append("coverage: complete -- every reachable state was explored")
    else:
        lines.append("coverage: INCOMPLETE -- verdicts cover only the explored states")
        lines.extend(f"  {hit.describe()}" for hit in result.bounds_hit)
    lines.append("verdicts:")
    lines.extend(_verdict_line(v) for v in result.verdicts.values())
    if result.check_deadlock:
        lines.append(
            f"  {'deadlock':<28} {'check':<9}  "
            + (f"{stats.deadlocks} deadlocked states" if stats.deadlocks else "none")
        )
    lines.append(
        f"statistics: {stats.distinct:,} distinct states, {stats.generated:,} generated "
        f"(initial states included), max depth {stats.max_depth}, {stats.elapsed:.2f}s, "
        f"{stats.states_per_second:,.0f} states/s"
    )
    lines.append(f"  max depth counts {depth_measure(result)}")
    lines.extend(coverage_text(result.extra.get("coverage")))
    if stats.levels and result.search == "bfs":
        lines.append("states per depth: " + " ".join(f"{n:,}" for n in stats.levels))
        rest = _projection(result)
        if rest is not None:
            lines.append(rest.describe(bounds.max_depth))
    lines.append(
        f"store: {stats.store_bytes / 2**20:.1f} MiB ({stats.bytes_per_state:.1f} bytes/state); "
        f"fingerprint collision probability (optimistic): {stats.collision_probability:.1e}"
    )
    workers = result.extra.get("workers")
    if workers:
        lines.append(workers_text(workers))
    por = result.extra.get("por")
    if por and por.get("enabled"):
        lines.append(
            f"partial-order reduction: {por['reduced_states']:,} states took one (ample) "
            f"step, {por['fully_expanded_states']:,} were fully expanded, "
            f"{por['pruned_transitions']:,} transitions pruned"
            + (f"; shortest traces re-checked by full search to depth "
               f"{result.extra['por_research']['depth']}" if "por_research" in result.extra
               else ""))
    elif por:
        lines.append(f"partial-order reduction: {por['note']}")
    for verdict in result.verdicts.values():
        if verdict.trace is not None:
            what = "counterexample" if verdict.status == "violated" else "witness"
            lines.append(f"{what} for {verdict.name} ({len(verdict.trace)} steps):")
            lines.extend(trace_view(model, verdict.trace, verdict.name, verdict.status))
    if result.deadlock_trace is not None:
        lines.append(f"deadlock ({len(result.deadlock_trace)} steps):")
        lines.extend(trace_view(model, result.deadlock_trace))
    return "\n".join(lines)


def coverage_text(coverage: dict[str, Any] | None) -> list[str]:
    """Transitions generated per action kind, and the declared kinds that never fired."""
    if not coverage:
        return []
    fired = coverage["transitions_per_action_kind"]
    lines = ["actions fired (transitions generated per kind): "
             + (", ".join(f"{k} {v:,}" for k, v in fired.items()) or "none")]
    never = coverage.get("never_fired")
    if never is not None:
        lines.append("actions never fired: " + (", ".join(never) or "none"))
    return lines


def workers_text(workers: dict[str, Any]) -> str:
    """One line on the partitioned search: workers, load balance, memory and disk."""
    per = workers["per_worker"]
    stored = [w["stored"] for w in per]
    balance = workers.get("balance")
    rates = ", ".join(f"{w['expanded_per_s']:,.0f}" for w in per)
    return (f"workers: {workers['count']} ({workers['backend']}); states per worker "
            f"{min(stored):,}..{max(stored):,}"
            + (f" (largest/smallest x{balance:.2f})" if balance else "")
            + (f", {workers['steals']:,} steals" if workers.get("steals") else "")
            + (", one per CPU (pinned)" if workers.get("pinned") else "")
            + f"; expanded/s per worker {rates}; peak memory (PSS) "
            f"{workers['rss_bytes_max'] / 2**20:,.0f} MiB, spill peak "
            f"{workers['spilled_bytes_max'] / 2**20:,.1f} MiB")


def _projection(result: Result) -> Projection | None:
    """For a breadth-first run stopped by a time or state bound short of its depth bound:
    what the rest would cost at the level growth seen so far."""
    stats = result.stats
    stopped = {hit.bound for hit in result.bounds_hit} & {"time", "states", "interrupted"}
    if result.search != "bfs" or not stopped or result.extra.get("por", {}).get("enabled"):
        return None
    # a state bound stops inside a level, whose count is then partial
    levels = stats.levels[:-1] if "states" in stopped else stats.levels
    workers = result.extra.get("workers") or {}
    resident = spill = None
    if workers.get("rss_bytes_max") and stats.distinct:
        resident = workers["rss_bytes_max"] / stats.distinct
        spill = workers.get("spilled_bytes_per_state", 0.0)
    return project(levels, result.bounds.max_depth, stats.states_per_second,
                   stats.bytes_per_state, resident, spill)
