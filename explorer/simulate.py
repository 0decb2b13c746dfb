"""Simulation: many seeded random walks, merged in walk order, as an explorer ``Result``.

Sampling is another strategy, not another checker: it uses the same Model interface,
properties, ``Result``/``Verdict``/``Trace`` types and outputs as breadth-first search. Its
verdicts never say "holds": a property is "violated" (with a shortened, replayable trace)
or "not violated in N walks of <= D steps", and the coverage says what the walks saw.

Determinism. Walks are cut into batches of consecutive indices (``explorer.walks``); the
driver merges batch results in index order and, with a walk budget, stops at the first
violating walk *by index*: batches after it are discarded, batches before it are waited
for. So the same seed reports the same walks, violation and coverage for every worker
count. Only a ``seconds`` budget makes the number of walks depend on the machine.
"""

from __future__ import annotations

import concurrent.futures as futures
import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from zkcheck.explorer.coverage import Coverage, DistinctCounter
from zkcheck.explorer.model import (
    Model,
    Property,
    PropertyKind,
    explanation_of,
    select_properties,
)
from zkcheck.explorer.result import (
    NOT_VIOLATED,
    VIOLATED,
    WITNESS_FOUND,
    WITNESS_NOT_FOUND,
    BoundHit,
    Bounds,
    Result,
    Stats,
    Verdict,
)
from zkcheck.explorer.shorten import Shortened, shorten
from zkcheck.explorer.trace import Trace, replay_labels
from zkcheck.explorer.walks import (
    Batch,
    BatchResult,
    ModelFactory,
    Walker,
    WalkRecord,
    WalkSettings,
    run_batch,
)

BATCH_WALKS = 16
WITNESS_SHORTEN_STATES = 20_000
"""Witness traces get a smaller shortening search than a violation's: a run may have many."""


@dataclass
class SimulationRun:
    """What a simulation saw, before it becomes a ``Result``."""

    settings: WalkSettings
    seed: int
    coverage: Coverage = field(default_factory=Coverage)
    distinct: DistinctCounter = field(default_factory=DistinctCounter)
    violation: WalkRecord | None = None
    witnesses: dict[str, WalkRecord] = field(default_factory=dict)
    elapsed: float = 0.0
    stopped_by: str = "walks"  # walks | time | violation | interrupted | caller

    def absorb(self, batch: BatchResult) -> None:
        self.coverage.merge(batch.coverage, self.distinct)
        for name, record in batch.witnesses.items():
            self.witnesses.setdefault(name, record)
        if batch.violation is not None and self.violation is None:
            self.violation = batch.violation
            self.stopped_by = "violation"


Progress = Callable[[SimulationRun], bool | None]
"""Called after each merged batch; returning True stops the run (``stopped_by`` "caller")."""


def _batches(first: int, walks: int | None) -> Iterator[tuple[int, int]]:
    start = first
    while walks is None or start < first + walks:
        stop = start + BATCH_WALKS if walks is None else min(start + BATCH_WALKS,
                                                              first + walks)
        yield start, stop
        start = stop


def simulate(factory: ModelFactory, settings: WalkSettings, seed: int,
             walks: int | None = None, seconds: float | None = None, workers: int = 1,
             first: int = 0, coverage_cap: int = 1_000_000,
             progress: Progress | None = None, executor: Any = None) -> SimulationRun:
    """Run walks ``first ..`` until ``walks`` ran, ``seconds`` passed or a walk violates a
    property. ``workers > 1`` runs batches in that many processes (same results), or as
    tasks of ``executor`` (e.g. ``RayExecutor``: a Ray cluster) when one is given."""
    if walks is None and seconds is None:
        raise ValueError("give a number of walks or a time limit")
    run = SimulationRun(settings, seed, distinct=DistinctCounter(coverage_cap))
    started = time.perf_counter()
    batches = (Batch(factory, settings, seed, a, b) for a, b in _batches(first, walks))

    def out_of_time() -> bool:
        return seconds is not None and time.perf_counter() - started >= seconds

    try:
        if workers <= 1 and executor is None:
            Walker(factory(), settings)  # bad settings fail here, not in a worker
            for batch in batches:
                run.absorb(run_batch(batch))
                run.elapsed = time.perf_counter() - started
                if progress is not None and progress(run):
                    run.stopped_by = "caller"
                    break
                if run.violation is not None:
                    break
                if out_of_time():
                    run.stopped_by = "time"
                    break
        else:
            _parallel(run, factory, settings, batches, workers, out_of_time, progress,
                      started, executor)
    except KeyboardInterrupt:
        run.stopped_by = "interrupted"
    run.elapsed = time.perf_counter() - started
    return run


def _parallel(run: SimulationRun, factory: ModelFactory, settings: WalkSettings,
              batches: Iterator[Batch], workers: int, out_of_time: Callable[[], bool],
              progress: Progress | None, started: float, executor: Any = None) -> None:
    """Keep ``2 * workers`` batches in flight; merge finished ones in walk order."""
    Walker(factory(), settings)
    context = multiprocessing.get_context("spawn")
    pool_of = executor if executor is not None else futures.ProcessPoolExecutor(
        workers, mp_context=context)
    with pool_of as pool:
        pending: dict[int, futures.Future] = {}
        number = merged = 0
        exhausted = stop_submitting = False
        while True:
            while not (exhausted or stop_submitting) and len(pending) < 2 * workers:
                batch = next(batches, None)
                if batch is None:
                    exhausted = True
                    break
                pending[number] = pool.submit(run_batch, batch)
                number += 1
            if merged not in pending:
                break
            result = pending.pop(merged).result()
            merged += 1
            run.absorb(result)
            run.elapsed = time.perf_counter() - started
            if progress is not None and progress(run):
                run.stopped_by = "caller"
            if run.violation is not None or run.stopped_by == "caller":
                for future in pending.values():
                    future.cancel()
                break
            if out_of_time() and not stop_submitting:
                stop_submitting = True
                run.stopped_by = "time"


# ---------------------------------------------------------------------- result


def walk_trace(model: Model, record: WalkRecord) -> Trace:
    """Rebuild a recorded walk's states by re-executing its labels."""
    initial = model.initial_states()[record.initial]
    trace = replay_labels(model, initial, record.labels)
    if record.loop_start is not None:
        trace = Trace(trace.initial, trace.steps, loop_start=record.loop_start)
    return trace


def _same_property(model: Model, name: str) -> Property:
    """The property of that name of a walk's own model (a swarm model has its own)."""
    return next(p for p in model.properties() if p.name == name)


def not_violated_text(walks: int, depth: int) -> str:
    return f"in {walks:,} walks of <= {depth} steps"


def to_result(walker: Walker, run: SimulationRun, seconds: float | None = None,
              shorten_states: int | None = 100_000) -> tuple[Result, Shortened | None]:
    """The run as an explorer ``Result``; the violation's trace shortened unless
    ``shorten_states`` is None (then the walk is shown exactly as it ran)."""
    settings = run.settings
    walks, depth = run.coverage.walks, settings.depth
    props = select_properties(walker.base.properties(), settings.properties)
    verdicts: dict[str, Verdict] = {}
    shortened = None
    for prop in props:
        verdict = Verdict(prop.name, prop.kind, NOT_VIOLATED, description=prop.description,
                          note=not_violated_text(walks, depth), required=False)
        if prop.kind is PropertyKind.WITNESS:
            record = run.witnesses.get(prop.name)
            verdict.required = settings.properties is not None
            if record is None:
                verdict.status = WITNESS_NOT_FOUND
            else:
                verdict.status = WITNESS_FOUND
                model = walker.model_for(record.knobs)[0]
                verdict.trace = walk_trace(model, record)
                verdict.note = f"first hit by walk {record.index}, not shortened"
                if shorten_states is not None and len(verdict.trace):
                    found = shorten(model, verdict.trace, _same_property(model, prop.name),
                                    min(shorten_states, WITNESS_SHORTEN_STATES))
                    verdict.trace = found.trace
                    verdict.note = (f"first hit by walk {record.index}; "
                                    + found.describe())
        record = run.violation
        if record is not None and record.prop == prop.name:
            model = walker.model_for(record.knobs)[0]
            trace = walk_trace(model, record)
            verdict.status = VIOLATED
            verdict.note = f"walk {record.index} (seed {run.seed}): {record.note}"
            if shorten_states is not None:
                shortened = shorten(model, trace, _same_property(model, prop.name),
                                    shorten_states)
                trace = shortened.trace
            verdict.trace = trace
        verdict.explanation = explanation_of(prop, verdict.trace)
        verdicts[prop.name] = verdict
    stats = Stats(distinct=run.distinct.count, generated=run.coverage.steps,
                  max_depth=run.coverage.max_depth, elapsed=run.elapsed)
    search = f"simulate ({settings.scheduler}{', swarm' if settings.swarm else ''})"
    hit = BoundHit("sampled", walks, 0, f"{walks:,} walks of <= {depth} steps, "
                   f"stopped by {run.stopped_by}; no verdict covers unsampled runs")
    result = Result(walker.base.name, search, Bounds(max_depth=depth, max_seconds=seconds),
                    verdicts, stats, bounds_hit=[hit], extra={"simulation": {
                        "seed": run.seed, "walks": walks, "stopped_by": run.stopped_by}})
    return result, shortened

