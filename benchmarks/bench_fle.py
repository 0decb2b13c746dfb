"""FLE exploration speed, store size and reduction factors (issue 7).

Runs, single process, breadth-first:

1. the 3-server startup to ``--depth 20`` (the default check), full search;
2. complete runs with and without partial-order reduction (POR), identical verdicts;
3. a 5-server startup with a crash budget of 1, to ``--depth 20`` or 10 minutes.

Prints distinct states/s and generated/s (per wall-clock second and per CPU second: the
machine may be shared), store bytes/state and POR reduction factors.
Run: ``.venv/bin/python benchmarks/bench_fle.py [--quick]``.
"""

from __future__ import annotations

import os
import platform
import sys
import time

from zkcheck.explorer import Bounds, Search
from zkcheck.fle_options import build_fle_model
from zkcheck.progress import project


def run(label: str, options: dict, bounds: Bounds, **search: object) -> tuple:
    model = build_fle_model(**options)
    cpu = time.process_time()
    result = Search(model, bounds=bounds, **search).run()
    cpu = time.process_time() - cpu
    s = result.stats
    por = result.extra.get("por", {})
    print(f"{label}: {s.distinct:,} distinct, {s.generated:,} generated, depth {s.max_depth}, "
          f"{'complete' if result.complete else 'bounded'}, {s.elapsed:.1f}s wall / "
          f"{cpu:.1f}s cpu -> {s.distinct / s.elapsed:,.0f} distinct/s "
          f"({s.distinct / cpu:,.0f} per cpu-s), {s.generated / s.elapsed:,.0f} generated/s, "
          f"store {s.bytes_per_state:.1f} bytes/state"
          + (f", POR: {por['reduced_states']:,} reduced / {por['fully_expanded_states']:,} "
             f"full" if por.get("enabled") else ""), flush=True)
    verdicts = {n: (v.status, len(v.trace) if v.trace else None)
                for n, v in result.verdicts.items()}
    return s.distinct, verdicts, s


def project_to(stats: object, depth: int) -> None:
    """What a full search to ``depth`` would cost at the growth of the levels it finished
    (``zkcheck.progress.project``, the line ``explore`` prints when a bound stops it)."""
    rest = project(stats.levels, depth, stats.distinct / stats.elapsed, stats.bytes_per_state)
    if rest is not None:
        print(f"  levels {' '.join(map(str, stats.levels))}; {rest.describe(depth)}",
              flush=True)


def main(quick: bool = False) -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}", flush=True)
    depth = 14 if quick else 20
    run(f"3-server startup --depth {depth}", {"servers": 3}, Bounds(max_depth=depth))
    # POR on the startup: reduced steps cost no depth, so compare states per depth
    pd = 12 if quick else 16
    _, v_full, s_full = run(f"3-server startup --depth {pd}", {"servers": 3},
                            Bounds(max_depth=pd))
    _, v_por, s_por = run(f"3-server startup --depth {pd} POR", {"servers": 3},
                          Bounds(max_depth=pd), por=True)
    print(f"  POR stores {sum(s_full.levels) / sum(s_por.levels[:pd + 1]):.2f}x fewer states "
          f"within depth {pd}, verdicts "
          f"{'identical' if v_full == v_por else 'DIFFERENT'}", flush=True)
    complete = [
        {"servers": 2, "crashes": 1, "restarts": 1},
        {"servers": 3, "scenario": "leader-crash", "timeouts": 1},
        {"servers": 3, "scenario": "leader-crash", "timeouts": 2},
    ]
    for options in complete[: 2 if quick else 3]:
        name = ",".join(f"{k}={v}" for k, v in options.items())
        full, v_full, _ = run(f"complete {name}", options, Bounds())
        reduced, v_por, _ = run(f"complete {name} POR", options, Bounds(), por=True)
        print(f"  POR reduction factor {full / reduced:.2f}x, verdicts and trace lengths "
              f"{'identical' if v_full == v_por else 'DIFFERENT'}", flush=True)
    if not quick:
        *_, five = run("5-server startup, crashes 1", {"servers": 5, "crashes": 1},
                       Bounds(max_depth=20, max_seconds=600))
        project_to(five, 20)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
