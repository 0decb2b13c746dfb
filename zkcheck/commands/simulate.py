"""``zkcheck simulate``: seeded random walks (uniform, per-server, PCT, swarm) with coverage."""

from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path
from typing import Any

import click

from zkcheck.cli import EXIT_OK, EXIT_VIOLATION
from zkcheck.errors import InputError
from zkcheck.explorer import VIOLATED, Verdict
from zkcheck.explorer.schedulers import SCHEDULERS
from zkcheck.explorer.simulate import SimulationRun
from zkcheck.explorer.walks import WalkSettings
from zkcheck.fle_options import fle_options, model_option, model_options
from zkcheck.outpaths import check_output_dir
from zkcheck.render.outputs import witness_names, write_outputs
from zkcheck.render.text import trace_view
from zkcheck.report import result_to_dict
from zkcheck.simulation import Simulated, coverage_dict, coverage_lines, run_simulation

DEFAULT_WALKS = 1000


class ProgressLine:
    """walks, walks/s, steps, steps/s and distinct states on one stderr line (a terminal
    only), at most twice a second."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.last = 0.0
        self.shown = False

    def __call__(self, run: SimulationRun) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.5:
            return
        self.last, self.shown = now, True
        c, elapsed = run.coverage, max(run.elapsed, 1e-9)
        sys.stderr.write(f"\r  walks {c.walks:,} ({c.walks / elapsed:,.0f} walks/s), steps "
                         f"{c.steps:,} ({c.steps / elapsed:,.0f} steps/s), distinct states "
                         f"{run.distinct.count:,}, {elapsed:.1f}s \x1b[K")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _check_inputs(walks: int | None, depth: int, seconds: float | None, workers: int,
                  change_points: int, seed: int | None, walk: int | None,
                  coverage_cap: int, shorten_states: int) -> None:
    for flag, value, least in (("--walks", walks, 1), ("--depth", depth, 1),
                               ("--workers", workers, 1), ("--change-points", change_points, 0),
                               ("--walk", walk, 0), ("--coverage-cap", coverage_cap, 1),
                               ("--shorten-states", shorten_states, 1), ("--seed", seed, 0)):
        if value is not None and value < least:
            raise InputError(f"{flag} must be >= {least}, got {value}")
    if seconds is not None and seconds <= 0:
        raise InputError(f"--time must be > 0, got {seconds}")
    if walk is not None and seed is None:
        raise InputError("--walk K replays one walk of a run: give that run's --seed too")


def _verdict_line(v: Verdict) -> str:
    if v.status == VIOLATED:
        text = f"violated at depth {len(v.trace)} ({v.note})"
    elif v.note and v.status.startswith("not violated"):
        text = f"{v.status} {v.note}"
    else:
        text = v.status + (f" ({v.note})" if v.note and v.trace is not None else "")
    return f"  {v.name:<28} {v.kind.value:<9}  {text}"


def report_text(sim: Simulated, header: str, replaying: int | None) -> str:
    run, result = sim.run, sim.result
    settings = run.settings
    limit = (f"{run.coverage.walks:,} walks" if replaying is None
             else f"walk {replaying} only, replayed exactly as it ran (not shortened)")
    lines = [header,
             f"strategy: random walks, {settings.scheduler} scheduler"
             + (f" ({settings.change_points} change points)" if settings.scheduler == "pct"
                else "") + (", swarm" if settings.swarm else "")
             + f"; seed {run.seed}; <= {settings.depth} steps per walk; {limit}; stopped by "
             f"{run.stopped_by}",
             "verdicts (sampling never proves a property holds):"]
    lines.extend(_verdict_line(v) for v in result.verdicts.values())
    lines.extend(coverage_lines(sim))
    for verdict in result.verdicts.values():
        if verdict.trace is None:
            continue
        record = sim.record_of(verdict.name)
        what = "counterexample" if verdict.status == VIOLATED else "witness"
        knobs = ("; swarm configuration: "
                 + ", ".join(f"{k}={v}" for k, v in record.knobs.items())
                 if record is not None and record.knobs else "")
        lines.append(f"{what} for {verdict.name} ({len(verdict.trace)} steps{knobs}):")
        if verdict.status == VIOLATED and sim.shortened is not None:
            lines.append(f"  {sim.shortened.describe()}")
        lines.extend(trace_view(sim.trace_model(record), verdict.trace, verdict.name,
                                verdict.status))
    if run.violation is not None and replaying is None:
        lines.append(f"reproduce the walk: add --seed {run.seed} --walk {run.violation.index} "
                     f"to this command")
    return "\n".join(lines)


@click.command()
@model_option
@fle_options
@click.option("--depth", type=int, default=100, show_default=True,
              help="Steps per walk (a walk also stops at a violation or a deadlock).")
@click.option("--walks", type=int, default=None,
              help=f"Number of walks (default {DEFAULT_WALKS} unless --time is given).")
@click.option("--time", "seconds", type=float, default=None,
              help="Stop starting walks after this many seconds.")
@click.option("--seed", type=int, default=None,
              help="Seed of the run (default: a random one, printed). Walk K draws from "
                   "PCG64(SeedSequence([seed, K])).")
@click.option("--walk", type=int, default=None, metavar="K",
              help="Replay only walk K of the run with --seed, exactly as it ran.")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Worker processes (the same seed gives the same walks for any number).")
@click.option("--ray", "ray_address", default=None, metavar="ADDRESS",
              help="Run the walks as Ray tasks: auto (the cluster of `ray start`), local, "
                   "or HOST:PORT; --workers tasks in flight, the same walks as one process.")
@click.option("--scheduler", type=click.Choice(SCHEDULERS), default="uniform",
              show_default=True,
              help="uniform: any enabled action; per-server: a random server, then one of "
                   "its actions; pct: random server priorities with --change-points drops.")
@click.option("--change-points", type=int, default=2, show_default=True, metavar="C",
              help="PCT priority change points per walk (finds bugs of depth C+1 with "
                   "probability >= 1/(n*k^C) per walk, n servers, k = --depth).")
@click.option("--swarm", is_flag=True,
              help="Each walk enables a random subset of the fault kinds (crashes, restarts, "
                   "link failures, reconnects, timeouts, client writes) with random budgets "
                   "up to the given ones.")
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Check only this property (repeatable). Default: all of the model's.")
@click.option("--no-shorten", is_flag=True, help="Show violating and witness walks as they ran.")
@click.option("--shorten-states", type=int, default=100_000, show_default=True,
              help="Shortening: states the breadth-first search seeded with the walk may "
                   "store (below the cap its result is a proven shortest trace).")
@click.option("--coverage-cap", type=int, default=1_000_000, show_default=True,
              help="Count distinct states exactly up to this many, then estimate "
                   "(HyperLogLog).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write trace.json, trace.svg, trace.png and report.html for the "
                   "violation (and per --witness) into DIR/<property>/.")
@click.option("--witness", "witnesses", multiple=True, metavar="NAME",
              help="Also write this witness's trace under --out (repeatable; 'all').")
@click.option("--no-progress", is_flag=True, help="No progress line on stderr.")
def simulate(model_spec: str, depth: int, walks: int | None, seconds: float | None,
             seed: int | None, walk: int | None, workers: int, ray_address: str | None,
             scheduler: str,
             change_points: int, swarm: bool, properties: tuple[str, ...], no_shorten: bool,
             shorten_states: int, coverage_cap: int, as_json: bool, out_dir: Path | None,
             witnesses: tuple[str, ...], no_progress: bool, **fle: Any) -> int:
    """Check the properties on seeded random walks (sampling, not exhaustive search).

    Verdicts are "violated" (with a shortened, replayable trace, the seed and the walk
    index) or "not violated in N walks of <= D steps" -- never "holds". Exit 0 when nothing
    was violated, 1 on a violation.
    """
    _check_inputs(walks, depth, seconds, workers, change_points, seed, walk, coverage_cap,
                  shorten_states)
    options = model_options(model_spec, fle)
    if out_dir is not None:
        check_output_dir(out_dir, "--out")
    if seed is None:
        seed = secrets.randbits(32)
    if walks is None and seconds is None:
        walks = DEFAULT_WALKS
    settings = WalkSettings(depth=depth, scheduler=scheduler, change_points=change_points,
                            swarm=swarm, properties=tuple(properties) or None)
    if walk is not None:
        walks, seconds, workers = 1, None, 1
    executor = None
    if ray_address is not None and walk is None:
        from zkcheck.explorer.ray_backend import RayExecutor, RayUnavailable, ray_backend

        try:
            executor = RayExecutor(ray_backend(ray_address))
        except RayUnavailable as exc:
            raise InputError(str(exc)) from None
    progress = ProgressLine(not no_progress and not as_json and walk is None)
    try:
        sim = run_simulation(model_spec, options, settings, seed, walks, seconds, workers,
                             first=walk or 0, coverage_cap=coverage_cap,
                             shorten_states=None if no_shorten or walk is not None
                             else shorten_states, progress=progress, executor=executor)
    finally:
        progress.close()
    wanted = witness_names(sim.model, witnesses)
    header = f"zkcheck simulate: {getattr(sim.model, 'summary', sim.model.name)}"
    code = EXIT_VIOLATION if not sim.result.ok else EXIT_OK
    if as_json:
        from zkcheck.schema import dumps, envelope

        data = result_to_dict(sim.model, sim.result,
                              {"model": model_spec, **({"options": options} if options else {})})
        data["coverage"] = coverage_dict(sim)
        click.echo(dumps(envelope("simulate", code, **data)))
    else:
        click.echo(report_text(sim, header, walk))
    if out_dir is not None:
        write_outputs(sim.model, sim.result, out_dir, model_spec, options, wanted,
                      command="zkcheck " + " ".join(sys.argv[1:]),
                      trace_model=lambda name: (sim.trace_model(sim.record_of(name)),
                                                sim.trace_options(options,
                                                                  sim.record_of(name))))
    return code
