"""The Ray backend on a real two-node Ray cluster on this machine (loopback only).

``ray.cluster_utils.Cluster`` starts a head node and a second node as real processes (GCS,
raylets, workers); with ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` Ray on Linux takes
127.0.0.1 as the node address. The test checks with ``ss -tlnp`` that every socket its Ray
processes listen on is bound to 127.0.0.1, runs the partitioned search there (in this
process as the driver, and through the CLI), compares the counts with one process, and
stops every Ray process it started, by PID.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when ray is imported

from fle_testlib import full_search  # noqa: E402
from test_parallel import steal_the_root  # noqa: E402

from zkcheck.explorer import Bounds  # noqa: E402
from zkcheck.explorer.parallel import ParallelSearch  # noqa: E402
from zkcheck.fle_options import build_fle_model  # noqa: E402

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

EXE = str(Path(sys.executable).with_name("zkcheck"))
LOOPBACK = ("127.0.0.1:", "[::1]:", "[::ffff:127.0.0.1]:")  # the last: IPv4-mapped loopback


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Ray's node processes and their workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def listeners(pids: set[int]) -> list[tuple[str, int]]:
    """(local address, pid) of every listening TCP socket owned by one of ``pids``."""
    out = subprocess.run(["ss", "-tlnpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        fields = line.split()
        for pid in map(int, re.findall(r"pid=(\d+)", line)):
            if pid in pids:
                found.append((fields[3], pid))
    return found


@pytest.fixture(scope="module")
def cluster():
    before = descendants(os.getpid())
    head = {"num_cpus": 1, "include_dashboard": False, "node_ip_address": "127.0.0.1"}
    c = Cluster(initialize_head=True, head_node_args=head)
    c.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    c.wait_for_nodes()
    started = descendants(os.getpid()) - before
    try:
        yield c, started
    finally:
        if ray.is_initialized():
            ray.shutdown()
        c.shutdown()
        deadline = time.time() + 30
        everything = started | (descendants(os.getpid()) - before)
        while time.time() < deadline and any(Path(f"/proc/{p}").exists() for p in everything):
            time.sleep(0.5)
        for pid in everything:
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, 9)


def test_two_nodes_listen_on_loopback_only(cluster) -> None:
    c, started = cluster
    assert len(c.list_all_nodes()) == 2
    sockets = listeners(started | descendants(os.getpid()))
    assert sockets, "the Ray cluster listens on no TCP socket?"
    wrong = [(address, pid) for address, pid in sockets
             if not address.startswith(LOOPBACK)]
    assert not wrong, wrong


def test_partitioned_search_on_the_cluster_equals_one_process(cluster) -> None:
    from zkcheck.explorer.ray_backend import ray_backend

    c, _ = cluster
    backend = ray_backend(c.address)
    try:
        for options, bounds in (({"servers": 2, "crashes": 1, "restarts": 1}, Bounds()),
                                ({"servers": 3}, Bounds(max_depth=11))):
            # the actors build the (compiled, unpicklable) model from a recipe
            recipe = functools.partial(build_fle_model, **options)
            m = recipe()
            # the single-process run other modules compare with (tests/fle_testlib.py)
            config = {k: v for k, v in options.items() if k != "servers"}
            reference = full_search(options["servers"], config, bounds=bounds)
            result = ParallelSearch(m, workers=2, backend=backend, bounds=bounds,
                                    model_factory=recipe).run()
            assert result.stats.distinct == reference.stats.distinct
            assert result.stats.levels == reference.stats.levels
            assert {n: v.status for n, v in result.verdicts.items()
                    if v.kind.value != "liveness"} == {
                n: v.status for n, v in reference.verdicts.items()
                if v.kind.value != "liveness"}
    finally:
        backend.shutdown()


def test_a_steal_goes_from_actor_to_actor(cluster) -> None:
    from zkcheck.explorer.ray_backend import ray_backend

    c, _ = cluster
    factory = ray_backend(c.address)
    recipe = functools.partial(build_fle_model, servers=3)
    try:
        steal_the_root(lambda _model, plan: factory(recipe, plan))
    finally:
        factory.shutdown()


def test_shards_are_placed_on_both_nodes(cluster) -> None:
    from zkcheck.explorer.ray_backend import ray_backend
    from zkcheck.explorer.shard import ShardPlan

    c, _ = cluster
    backend = ray_backend(c.address)
    try:
        shards = backend(functools.partial(build_fle_model, servers=2),
                         ShardPlan(2, ("Leadership",)))
        assert len(set(shards.node_ids())) == 2  # one actor (1 CPU) per node
        shards.close()
    finally:
        backend.shutdown()


def test_cli_joins_the_cluster(cluster) -> None:
    c, _ = cluster
    # the search on the cluster is compared with one process above; this checks that the
    # command line joins it, on a smaller space (tests/test_fle_counts.py: 5,838 states)
    proc = subprocess.run([EXE, "explore", "--servers", "2", "--timeouts", "1",
                           "--no-por", "--ray", c.address, "--workers", "2", "--no-progress"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"})
    assert proc.returncode == 0, proc.stderr
    assert "5,838 distinct states" in proc.stdout
    assert "workers: 2 (ray)" in proc.stdout


def test_simulate_on_the_cluster_gives_the_same_walks(cluster) -> None:
    c, _ = cluster
    args = [EXE, "simulate", "--servers", "3", "--late", "3", "--max-round", "1",
            "--variant", "exit_when_all_heard", "--seed", "1", "--walks", "40", "--json",
            "--no-shorten"]
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    here = subprocess.run(args, capture_output=True, text=True, timeout=300)
    there = subprocess.run([*args, "--ray", c.address, "--workers", "2"], capture_output=True,
                           text=True, timeout=300, env=env)
    assert here.returncode == there.returncode == 1, there.stderr
    ours, theirs = json.loads(here.stdout), json.loads(there.stdout)
    assert ours["verdicts"] == theirs["verdicts"]
    assert ours["coverage"]["walks"] == theirs["coverage"]["walks"]
