"""Reach: parallel speed-up, resident bytes per state, spill, the 5-server leader crash.

Every figure is measured in this one run, next to the same run of the code at commit
``ef93e5d`` (before partitioned search; checked out into a temporary directory and run from
there), as the issues ask:

1. the default ``--servers 3 --depth 20`` run: distinct states/s and peak resident memory
   with 1, 2 (and 4, 8, 16 where the machine has the cores) workers, and on a local
   two-node Ray cluster with 2 workers; per-core speed also side by side (the baseline and
   one worker at the same time, one core each, CPU seconds);
2. resident bytes/state (peak PSS summed over the whole process tree / distinct states) and spilled
   bytes/state for the 3-server default, the 5-server leader crash and the 3-server startup
   with ``--crashes 1 --restarts 1`` to depth 20 (the last two stopped at 3 million states);
3. the 5-server leader crash with 2 workers until the ``LeaderEstablished`` witness or the
   time bound, with its projection.

Peak memory is sampled from /proc every 0.1 s over the process and all its descendants
(workers, Ray processes) as the sum of their proportional set sizes (PSS: a page the
forked workers share with the coordinator counts once, not once per process), so it is
the memory the whole run holds, not one process's and not the shared pages many times.
Run: ``.venv/bin/python benchmarks/bench_reach.py [--quick] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "ef93e5d"
PAGE = os.sysconf("SC_PAGE_SIZE")


def _memory(pid: int) -> int:
    """Proportional set size of one process (a page shared after fork counts once across
    the processes sharing it); its RSS where smaps_rollup is not readable."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except OSError:
        return 0


def tree_rss(pid: int) -> int:
    """Memory held by ``pid`` and every process below it (sum of proportional set sizes:
    the forked workers' shared pages are not counted twice)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _memory(p)
        todo.extend(children.get(p, []))
    return total


SAMPLE_EVERY = 0.1
"""Seconds between two memory samples. Speed runs sample less often (``--repeat``): reading
every process's smaps_rollup takes CPU from the run, more so when it uses every core."""


def measure(cmd: list[str], env: dict | None = None, every: float | None = None
            ) -> tuple[dict, float, int]:
    """Run ``cmd`` (a ``zkcheck explore ... --json``); its JSON, wall seconds, peak memory
    (PSS, sampled every ``every`` seconds, default ``SAMPLE_EVERY``)."""
    every = SAMPLE_EVERY if every is None else every
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            done.wait(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    try:
        return json.loads(out), wall, peak
    except ValueError:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}") from None


def baseline_tree(tmp: Path) -> Path:
    """The code at ``BASELINE`` laid out as an importable ``zkcheck`` package."""
    src = tmp / "src"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(src),
                    BASELINE], check=True)
    pkg = tmp / "pkg"
    pkg.mkdir()
    (pkg / "zkcheck").symlink_to(src / "zkcheck")
    for part in ("model", "invariants", "explorer"):
        link = src / "zkcheck" / part
        if not link.exists():
            link.symlink_to(src / part)
    return pkg


def zkcheck(args: list[str], pkg: Path | None = None) -> list[str]:
    if pkg is None:
        return [str(Path(sys.executable).with_name("zkcheck")), *args, "--json"]
    code = (f"import sys; sys.path.insert(0, {str(pkg)!r}); from zkcheck.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    return [sys.executable, "-c", code, *args, "--json"]


FIXED: dict[str, int] = {}
"""Peak resident memory of a tiny run per configuration: the fixed start-up cost."""


def fixed_cost(args: list[str], pkg: Path | None = None) -> int:
    """Peak memory (PSS) of the same command stopped after 100 states (interpreter, imports,
    workers, tables): what a run costs before it stores anything."""
    key = " ".join(args) + str(pkg)
    if key not in FIXED:
        # sampled often: a run this short ends before a speed run's slower sampling
        # looks a second time (one such run read 4 MiB, the interpreter before its imports)
        FIXED[key] = measure(zkcheck([*args, "--max-states", "100"], pkg), every=0.02)[2]
    return FIXED[key]


def row(label: str, data: dict, wall: float, peak: int, fixed: int | None = None) -> dict:
    stats = data["stats"]
    distinct = stats["distinct_states"]
    spill = stats.get("spill_bytes_max", 0)
    figures = {"label": label, "distinct": distinct, "wall": wall,
               "rate": distinct / stats["elapsed_seconds"] if stats["elapsed_seconds"] else 0,
               "peak": peak, "bps": peak / max(distinct, 1),
               "spill_bps": stats.get("spill_bytes_per_spilled_state", 0.0), "spill": spill,
               "complete": data["complete"],
               "bounds": [b["bound"] for b in data["bounds_hit"]]}
    print(f"  {label:<44} {distinct:>11,} states {stats['elapsed_seconds']:8.1f}s "
          f"{figures['rate']:>9,.0f}/s  peak PSS {peak / 2**20:8.1f} MiB "
          f"= {figures['bps']:7.1f} B/state  spill {spill / 2**20:7.1f} MiB "
          f"({figures['spill_bps']:.1f} B/spilled state)"
          + ("" if data["complete"] else f"  [{', '.join(figures['bounds'])}]"), flush=True)
    if fixed is not None:
        budget = 64 * distinct + 300 * 10**6
        print(f"    start-up {fixed / 2**20:,.0f} MiB; (peak - start-up) / states = "
              f"{(peak - fixed) / max(distinct, 1):.1f} B/state; target 64 B/state + 300 MB "
              f"= {budget / 2**20:,.0f} MiB: {'met' if peak <= budget else 'NOT met'}",
              flush=True)
    return figures


def ray_cluster_run(args: list[str]) -> tuple[dict, float, int] | None:
    """The same run on a local two-node Ray cluster (both nodes on 127.0.0.1)."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "include_dashboard": False, "node_ip_address": "127.0.0.1"})
    cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    cluster.wait_for_nodes()
    try:
        return measure(zkcheck([*args, "--ray", cluster.address, "--workers", "2"]))
    finally:
        cluster.shutdown()


WITNESS_BEYOND = 20
"""No LeaderEstablished witness lies within this (partial-order reduced) depth of the
5-server leader crash: levels 0-20 were completed in a 2-hour, 2-worker run (124.8 million
states; docs/reach.md). The shortest witness's depth is not known; a random walk finds one
of 83 steps (before reduction), so the projection is printed for several depths."""


def project_five(data: dict, peak: int) -> None:
    """What reaching depths beyond ``WITNESS_BEYOND`` would cost at the measured level
    growth, rate and bytes per state, for 2, 16 and 64 cores (linear scaling assumed)."""
    from zkcheck.progress import project

    stats = data["stats"]
    levels = stats["levels"][:-1]  # the last level was cut by the time bound
    rate = stats["distinct_states"] / stats["elapsed_seconds"]
    print(f"    projection from the {len(levels)} complete levels of this run (the witness "
          f"lies deeper than {WITNESS_BEYOND}; growth assumed steady, so an upper estimate "
          "while growth slows):", flush=True)
    for depth in range(WITNESS_BEYOND + 1, WITNESS_BEYOND + 7):
        rest = project(levels, depth, rate, stats["store_bytes_per_state"],
                       peak / stats["distinct_states"],
                       stats.get("spill_bytes_per_spilled_state", 0.0))
        if rest is None or rest.states is None:
            print("    too few levels for a projection", flush=True)
            return
        hours = ", ".join(f"{cores} cores {rest.seconds * 2 / cores / 3600:,.1f} h"
                          for cores in (2, 16, 64))
        print(f"    to depth {depth}: {rest.states:,.3g} more states (levels "
              f"x{rest.growth:.2f}); {hours}; memory {rest.memory_bytes / 2**30:,.1f} GiB "
              f"(all cores together), spill disk {rest.disk_bytes / 2**30:,.1f} GiB",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="depth 16, 30 s bounds")
    parser.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 1,2")
    parser.add_argument("--repeat", type=int, default=1,
                        help="part 1: rounds of runs; medians of the per-round ratios")
    parser.add_argument("--seconds", type=float, default=300,
                        help="time bound of each run of parts 2 and 3")
    options = parser.parse_args()
    depth = 16 if options.quick else 20
    seconds = 30 if options.quick else options.seconds
    cores = len(os.sched_getaffinity(0))
    print(f"machine: {platform.machine()}, {cores} cores, load {os.getloadavg()[0]:.1f}, "
          f"Python {sys.version.split()[0]}; baseline = {BASELINE}", flush=True)
    default = ["explore", "--servers", "3", "--depth", str(depth), "--no-progress"]
    with tempfile.TemporaryDirectory() as tmp:
        pkg = baseline_tree(Path(tmp))
        try:
            parts = {int(p) for p in options.parts.split(",")}
            if 1 in parts:
                part_one(default, pkg, cores, options.repeat)
            if 2 in parts:
                part_two(options, pkg, seconds)
            if 3 in parts:
                part_three(seconds)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(Path(tmp) / "src")], check=False)


def rate_of(run: tuple[dict, float, int]) -> float:
    stats = run[0]["stats"]
    return stats["distinct_states"] / stats["elapsed_seconds"]


def part_one(default: list[str], pkg: Path, cores: int, repeat: int = 1) -> None:
    """Rounds of: the baseline, each worker count, and (2+ cores) the ceiling. A virtual
    machine's speed drifts by up to 30% between minutes, so the runs of one round are taken
    back to back, each speed-up is taken within its round, and its median over the rounds
    is reported; each row shows the run of median speed."""
    global SAMPLE_EVERY
    print(f"1. default run ({' '.join(default[1:5])}), {repeat} round(s)", flush=True)
    if repeat > 1:
        SAMPLE_EVERY = 0.5
    counts = [w for w in (1, 2, 4, 8, 16) if w <= max(cores, 2)]
    commands = {BASELINE: zkcheck(default, pkg)}
    commands.update({f"--workers {w}": zkcheck([*default, "--workers", str(w)])
                     for w in counts})
    runs: dict[str, list] = {label: [] for label in commands}
    ceilings: list[float] = []
    pairs: list[tuple[float, float]] = []
    for number in range(repeat):
        for label, cmd in commands.items():
            runs[label].append(measure(cmd))
        if cores >= 2:
            ceilings.append(ceiling(default))
            pairs.append(side_by_side(commands[BASELINE], commands["--workers 1"],
                                      swap=number % 2 == 1))
        if repeat > 1:
            rates = "  ".join(f"{label} {rate_of(r[-1]):,.0f}/s" for label, r in runs.items())
            extra = f"  two at once {ceilings[-1]:,.0f}/s" if ceilings else ""
            if pairs:
                extra += (f"  side by side: {BASELINE} {pairs[-1][0]:.1f} s, --workers 1 "
                          f"{pairs[-1][1]:.1f} s CPU")
            print(f"    round {number + 1}: {rates}{extra}", flush=True)
    row(f"{BASELINE} (one process)", *median_of(runs[BASELINE]))
    one = f"--workers {counts[0]}"
    for w in counts:
        label = f"--workers {w}"
        row(label, *median_of(runs[label]), fixed_cost([*default, "--workers", str(w)]))
        over_one = ratio(runs[label], runs[one])
        over_base = ratio(runs[label], runs[BASELINE])
        print(f"    speed-up x{over_one:.2f} over 1 worker, x{over_base:.2f} over {BASELINE}"
              + (" (medians of the per-round ratios)" if repeat > 1 else ""), flush=True)
    if pairs:
        per_core = [base / one for base, one in pairs]
        print(f"  per-core speed, side by side ({BASELINE} and --workers 1 at the same time, "
              f"one core each): --workers 1 x{median(per_core):.2f} over {BASELINE} in CPU "
              f"seconds (median; rounds {', '.join(f'{r:.2f}' for r in per_core)})",
              flush=True)
    if ceilings:
        limit = median([c / rate_of(r) for c, r in zip(ceilings, runs[one], strict=True)])
        print(f"  two independent --workers 1 runs at once: ceiling for 2 workers "
              f"x{limit:.2f} over 1 worker" + (" (median over the rounds)" if repeat > 1
                                               else ""), flush=True)
        if "--workers 2" in runs:  # what the machine gave two processes, per round
            share = median([rate_of(r) / c for r, c in
                            zip(runs["--workers 2"], ceilings, strict=True)])
            print(f"    --workers 2 reached {share:.0%} of it", flush=True)
    try:
        r = row("Ray, local 2-node cluster, 2 workers", *ray_cluster_run(default))
        print(f"    speed-up x{r['rate'] / rate_of(median_of(runs[one])):.2f} over 1 worker "
              "(the cluster's processes are not in the peak memory)", flush=True)
    except ImportError:
        print("  Ray is not installed: no Ray figure", flush=True)


def median_of(runs: list) -> tuple[dict, float, int]:
    """The run of median speed (for an even count, the slower of the middle two)."""
    return sorted(runs, key=rate_of)[(len(runs) - 1) // 2]


def ratio(runs: list, against: list) -> float:
    """The median of the per-round speed ratios."""
    return median([rate_of(a) / rate_of(b) for a, b in zip(runs, against, strict=True)])


def ceiling(default: list[str]) -> float:
    """What two cores give to two *independent* one-worker runs started together (their
    summed states/s): the speed-up no partitioned search can beat on this machine (shared
    caches, memory bandwidth, a hypervisor's siblings), printed next to the 2-worker
    figure."""
    cmd = zkcheck([*default, "--workers", "1"])
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True) for _ in range(2)]
    total = 0.0
    for proc in procs:
        out, _ = proc.communicate()
        stats = json.loads(out)["stats"]
        total += stats["distinct_states"] / stats["elapsed_seconds"]
    return total


def side_by_side(first: list[str], second: list[str], swap: bool) -> tuple[float, float]:
    """CPU seconds of two commands run at the same time, each pinned to its own core (the
    cores swapped when ``swap``): a per-core comparison that the machine's drift between
    minutes, which back-to-back runs suffer, touches alike on both sides."""
    cpus = sorted(os.sched_getaffinity(0))[:2]
    if swap:
        cpus.reverse()
    procs = {}
    for name, cmd, cpu in (("first", first, cpus[0]), ("second", second, cpus[1])):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                preexec_fn=lambda c=cpu: os.sched_setaffinity(0, {c}))
        procs[proc.pid] = name
    used: dict[str, float] = {}
    while procs:
        pid, status, usage = os.wait4(-1, 0)
        if pid in procs:
            if status:
                raise SystemExit(f"side-by-side run {procs[pid]} failed (status {status})")
            used[procs.pop(pid)] = usage.ru_utime + usage.ru_stime
    return used["first"], used["second"]


def part_two(options: argparse.Namespace, pkg: Path, seconds: float) -> None:
    """Deliverable 1 of "Reach II" (<= 64 B/state + 300 MB, 3 and 5 servers, POR on and
    off); the two configurations that issue names are measured next to the baseline too."""
    limit = "300000" if options.quick else "3000000"
    print(f"2. bytes per state ({limit} states or {seconds:.0f} s)", flush=True)
    five = ["explore", "--servers", "5", "--scenario", "leader-crash"]
    three = ["explore", "--servers", "3", "--crashes", "1", "--restarts", "1", "--depth", "20"]
    bounds = ["--max-states", limit, "--time", str(seconds), "--no-progress"]
    runs = [
        ("5-server leader crash (POR on)", [*five, *bounds], True),
        ("3-server startup, crashes 1, restarts 1, depth 20 (POR off)", [*three, *bounds],
         True),
        ("5-server leader crash (POR off)", [*five, "--no-por", *bounds], False),
        ("3-server startup, crashes 1, restarts 1, depth 20 (POR on)",
         [*three, "--por", *bounds], False),
    ]
    for label, args, baseline in runs:
        if baseline:
            row(f"{label}: {BASELINE}", *measure(zkcheck(args, pkg)))
        for workers in (1, 2):
            with_workers = [*args, "--workers", str(workers)]
            row(f"{label}: --workers {workers}", *measure(zkcheck(with_workers)),
                fixed_cost(with_workers))


def part_three(seconds: float) -> None:
    print("3. 5-server leader crash until LeaderEstablished, 2 workers", flush=True)
    data, wall, peak = measure(zkcheck(
        ["explore", "--servers", "5", "--scenario", "leader-crash", "--stop-at-witness",
         "LeaderEstablished", "--workers", "2", "--time", str(seconds), "--no-progress"]))
    row("5-server leader crash, 2 workers", data, wall, peak)
    found = {v["property"]: v["status"] for v in data["verdicts"]}
    print(f"    LeaderEstablished: {found.get('LeaderEstablished')}", flush=True)
    if found.get("LeaderEstablished") != "witness found":
        project_five(data, peak)


if __name__ == "__main__":
    main()
