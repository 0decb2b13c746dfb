"""Simulation from model options: the glue shared by ``zkcheck simulate`` and spec files.

Builds the model factory (a picklable ``functools.partial`` of ``build_model``, so worker
processes build their own model), runs ``explorer.simulate`` and turns what the walks saw
into a ``Result`` plus the coverage report (text and JSON).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from zkcheck.api import build_model
from zkcheck.errors import InputError
from zkcheck.explorer import Result
from zkcheck.explorer.coverage import feature_table, never_taken
from zkcheck.explorer.model import Model
from zkcheck.explorer.schedulers import pct_bound
from zkcheck.explorer.shorten import Shortened
from zkcheck.explorer.simulate import SimulationRun, simulate, to_result
from zkcheck.explorer.walks import Walker, WalkRecord, WalkSettings


@dataclass
class Simulated:
    model: Model
    walker: Walker
    run: SimulationRun
    result: Result
    shortened: Shortened | None

    def trace_model(self, record: WalkRecord | None) -> Model:
        """The model a recorded walk ran on (its swarm configuration, if any)."""
        return self.walker.model_for(record.knobs)[0] if record is not None else self.model

    def trace_options(self, options: dict[str, Any], record: WalkRecord | None
                      ) -> dict[str, Any]:
        """The options that rebuild that model: the base ones with the walk's knob values."""
        return {**options, **(record.knobs if record is not None else {})}

    def record_of(self, prop: str) -> WalkRecord | None:
        run = self.run
        if run.violation is not None and run.violation.prop == prop:
            return run.violation
        return run.witnesses.get(prop)


def run_simulation(model_spec: str, options: dict[str, Any], settings: WalkSettings, seed: int,
                   walks: int | None = None, seconds: float | None = None, workers: int = 1,
                   first: int = 0, coverage_cap: int = 1_000_000,
                   shorten_states: int | None = 100_000, progress: Any = None,
                   executor: Any = None) -> Simulated:
    """Run the walks and build the result; InputError (one line) for unusable settings."""
    factory = functools.partial(build_model, model_spec, **options)
    model = factory()
    try:
        walker = Walker(model, settings)
    except KeyError as exc:
        raise InputError(exc.args[0]) from None
    except ValueError as exc:
        raise InputError(f"--swarm: {exc}") from None
    run = simulate(factory, settings, seed, walks=walks, seconds=seconds, workers=workers,
                   first=first, coverage_cap=coverage_cap, progress=progress,
                   executor=executor)
    result, shortened = to_result(walker, run, seconds, shorten_states)
    return Simulated(model, walker, run, result, shortened)


def actor_count(model: Model) -> int | None:
    """Servers, for the PCT bound (None when the model names no actors)."""
    sids = getattr(model, "sids", None)
    return len(sids) if sids is not None else None


def coverage_dict(sim: Simulated) -> dict[str, Any]:
    run, coverage = sim.run, sim.run.coverage
    kinds_hook = getattr(sim.model, "action_kinds", None)
    declared = kinds_hook() if kinds_hook is not None else sorted(coverage.kinds)
    elapsed = run.elapsed or 1e-9
    data: dict[str, Any] = {
        "seed": run.seed,
        "scheduler": run.settings.scheduler,
        "swarm": run.settings.swarm,
        "walks": coverage.walks,
        "steps": coverage.steps,
        "stopped_by": run.stopped_by,
        "walks_per_second": round(coverage.walks / elapsed, 1),
        "steps_per_second": round(coverage.steps / elapsed, 1),
        "distinct_states": run.distinct.to_dict(),
        "max_depth": coverage.max_depth,
        "walk_ends": dict(sorted(coverage.ends.items())),
        "steps_per_action_kind": dict(sorted(coverage.kinds.items())),
        "action_kinds_never_taken": never_taken(coverage, declared),
        # the names explore uses for the same two facts (docs/json.md)
        "transitions_per_action_kind": dict(sorted(coverage.kinds.items())),
        "never_fired": never_taken(coverage, declared),
        "features": feature_table(coverage),
        "witnesses_first_walk": dict(sorted(coverage.witnesses.items())),
    }
    if run.violation is not None:
        data["violation"] = {"property": run.violation.prop, "walk": run.violation.index,
                             "note": run.violation.note, "knobs": run.violation.knobs}
    if sim.shortened is not None:
        data["shortened"] = {"from": sim.shortened.original,
                             "to": len(sim.shortened.trace), "exact": sim.shortened.exact,
                             "method": sim.shortened.method}
    actors = actor_count(sim.model)
    if run.settings.scheduler == "pct" and actors:
        data["pct"] = {"change_points": run.settings.change_points, "actors": actors,
                       "bug_depth": run.settings.change_points + 1,
                       "min_probability_per_walk": pct_bound(
                           actors, run.settings.depth, run.settings.change_points)}
    return data


def coverage_lines(sim: Simulated) -> list[str]:
    data = coverage_dict(sim)
    lines = [
        f"coverage (sampled, not exhaustive): {data['walks']:,} walks, {data['steps']:,} "
        f"steps, {data['walks_per_second']:,.0f} walks/s, {data['steps_per_second']:,.0f} "
        f"steps/s",
        f"  distinct states seen: {sim.run.distinct.describe()}",
        f"  max depth {data['max_depth']}; walks ended by: "
        + ", ".join(f"{k} {v:,}" for k, v in data["walk_ends"].items()),
        "  steps per action kind: "
        + ", ".join(f"{k} {v:,}" for k, v in data["steps_per_action_kind"].items()),
        "  action kinds never taken: " + (", ".join(data["action_kinds_never_taken"])
                                          or "none"),
    ]
    for key, values in data["features"].items():
        lines.append(f"  {key}: {', '.join(map(str, values))}")
    if data["witnesses_first_walk"]:
        lines.append("  witnesses (first walk): " + ", ".join(
            f"{k} {v}" for k, v in data["witnesses_first_walk"].items()))
    if "pct" in data:
        pct = data["pct"]
        lines.append(f"  PCT: {pct['change_points']} change points, {pct['actors']} servers, "
                     f"{sim.run.settings.depth} steps: a bug of depth {pct['bug_depth']} is "
                     f"hit by one walk with probability >= {pct['min_probability_per_walk']:.2e}")
    return lines
