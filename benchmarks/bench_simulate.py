"""Bug finding by simulation versus breadth-first search (issue 15, deliverable 6).

For each historic bug of specs/ (R1-R7) and a 5-server version where one can be stated
(same variant and faults, bigger ensemble): the number of walks and the time until the
first violation (R7: the first hit of its witness), median over 10 seeds, single process,
next to breadth-first search's time on the same configuration (or its projection when a
time limit stops it first).

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_simulate.py [--seeds 10] [--limit 60]
[--bfs-limit 120] [-k NAME]``. Prints one Markdown table (the README's).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tomllib
from pathlib import Path

from zkcheck.api import build_model
from zkcheck.explorer import Bounds, Search
from zkcheck.explorer.liveness import check_liveness
from zkcheck.explorer.model import PropertyKind
from zkcheck.explorer.simulate import simulate
from zkcheck.explorer.walks import WalkSettings
from zkcheck.progress import project

SPECS = Path(__file__).resolve().parent.parent / "specs"

# name, spec file, property, walk settings, 5-server options (None: not stated)
CASES = [
    ("R1 1419", "r1-1419-buggy.toml", "EventuallyElected",
     {"scheduler": "uniform", "depth": 200},
     {"servers": 5, "epoch": ["1=2", "2=1", "3=1", "4=1", "5=1"],
      "zxid": ["1=1:5", "2=1:5", "3=1:5", "4=1:5", "5=1:5"]}),
    ("R2 975", "r2-975-buggy.toml", "DecisionSupported", {"scheduler": "uniform"},
     {"servers": 5, "late": [5]}),
    ("R3 1514", "r3-1514-buggy.toml", "DecisionSupported",
     {"scheduler": "pct", "change_points": 2}, {"servers": 5}),
    ("R4 1732", "r4-1732-buggy.toml", "JoinerEventuallyJoins",
     {"scheduler": "uniform", "depth": 200}, {"servers": 5, "rounds": ["4=2", "5=2"]}),
    ("R5 2164", "r5-2164-buggy.toml", "JoinerEventuallyJoins", {"scheduler": "uniform"},
     {"servers": 5}),
    ("R6 1343", "r6-1343-buggy.toml", "EventuallyElected", {"scheduler": "uniform"},
     {"servers": 5, "epoch": ["1=1:2", "2=1:2", "3=1", "4=1", "5=1:2"]}),
    ("R7 two leading", "r7-leadership.toml", "TwoLeadingSameRound",
     {"scheduler": "per-server", "depth": 200}, {"servers": 5, "late": [5]}),
]


def spec_of(name: str) -> tuple[dict, dict, dict]:
    data = tomllib.loads((SPECS / name).read_text())
    return data.get("options", {}), data.get("search", {}), data["expect"]["verdicts"]


def walks_to_hit(options: dict, prop: str, settings: WalkSettings, seed: int, limit: float,
                 witness: bool) -> tuple[int | None, float]:
    """(walks until the first violation or witness hit, seconds); None if not in ``limit``."""
    factory = functools.partial(build_model, "fle", **options)
    if witness:  # stop after the batch in which a walk first hits the witness
        run = simulate(factory, settings, seed, walks=10**9, seconds=limit,
                       progress=lambda r: prop in r.witnesses)
        first = run.coverage.witnesses.get(prop)
        return (first + 1 if first is not None else None), run.elapsed
    run = simulate(factory, settings, seed, walks=10**9, seconds=limit)
    if run.violation is not None and run.violation.prop == prop:
        return run.violation.index + 1, run.elapsed
    return None, run.elapsed


def bfs(options: dict, search: dict, prop: str, limit: float, target: int) -> str:
    """Breadth-first search's time to the verdict on ``prop``, or when ``limit`` stops it
    first, a projection of the time to reach depth ``target`` (the 3-server trace length:
    the least depth a 5-server search must reach) at the level growth seen so far."""
    model = build_model("fle", **options)
    kind = next(p.kind for p in model.properties() if p.name == prop)
    bounds = Bounds(max_depth=search.get("depth"), max_seconds=limit)
    result = Search(model, bounds=bounds, properties=[prop], liveness=check_liveness,
                    stop_at_first=kind is PropertyKind.INVARIANT).run()
    verdict = result.verdicts[prop]
    s = result.stats
    if verdict.trace is not None:
        return f"{s.elapsed:.1f} s ({s.distinct:,} states, trace {len(verdict.trace)})"
    rest = project(s.levels, target, s.states_per_second, s.bytes_per_state)
    more = (f"; to reach depth {target}: about {rest.seconds / 3600:,.3g} h more"
            if rest and rest.seconds else "")
    return f"not found in {s.elapsed:.0f} s ({s.distinct:,} states, depth {s.max_depth}){more}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per seed")
    parser.add_argument("--bfs-limit", type=float, default=120.0)
    parser.add_argument("-k", dest="match", default="")
    args = parser.parse_args()
    print("| bug | servers | property | walks (sched.) | walks to first hit, median | "
          "time, median | found | BFS |")
    print("|---|---|---|---|---|---|---|---|")
    for name, spec, prop, walk, five in CASES:
        if args.match not in name:
            continue
        options, search, expected = spec_of(spec)
        target = expected[prop]["length"]
        variants = [("3" if "servers" not in options else str(options["servers"]), options)]
        if five is not None:
            variants.append(("5", {**options, **five}))
        for servers, opts in variants:
            settings = WalkSettings(depth=walk.get("depth", 100), scheduler=walk["scheduler"],
                                    change_points=walk.get("change_points", 2),
                                    swarm=walk.get("swarm", False), properties=(prop,))
            witness = prop == "TwoLeadingSameRound"
            hits = [walks_to_hit(opts, prop, settings, seed, args.limit, witness)
                    for seed in range(args.seeds)]
            found = [h for h in hits if h[0] is not None]
            walks = statistics.median(h[0] if h[0] is not None else float("inf")
                                      for h in hits)
            seconds = statistics.median(h[1] if h[0] is not None else float("inf")
                                        for h in hits)
            bfs_text = bfs(opts, search, prop, args.bfs_limit, target)
            label = walk["scheduler"] + (f", c={walk['change_points']}"
                                         if walk["scheduler"] == "pct" else "")
            print(f"| {name} | {servers} | {prop} | {label}, <= {settings.depth} steps | "
                  f"{walks:,.0f} | {seconds:.2f} s | {len(found)}/{len(hits)} | {bfs_text} |",
                  flush=True)


if __name__ == "__main__":
    main()
