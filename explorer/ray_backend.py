"""The Ray backend: shards are Ray actors, possibly on many machines.

The driver (this process) only coordinates: an actor's ``expand`` returns its report and
one object per destination shard, and the driver hands those object references to the
destination actors' ``receive`` without fetching them, so successor batches travel from
actor to actor through Ray's object store. Ray runs the calls a driver makes to one actor
in the order it made them, which is what the level loop needs.

``ray_backend(address)`` connects first (``auto``: the cluster of ``ray start``;
``local``: a Ray instance started for this run and stopped after it; else ``HOST:PORT``)
and raises ``RayUnavailable`` with one line when nobody answers.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from zkcheck.explorer.frontier import SpillFull
from zkcheck.explorer.shard import ExpandReport, Shard, ShardPlan

CONNECT_TIMEOUT_S = 10


class RayUnavailable(RuntimeError):
    """Ray is missing or the cluster cannot be reached (one line)."""


class _ShardActor:
    """A shard inside a Ray actor; ``expand`` splits its batches into separate objects."""

    def __init__(self, model: Any, shard_id: int, plan: ShardPlan) -> None:
        import gc

        gc.disable()  # as in the coordinator: acyclic states, no cyclic garbage to find
        if not hasattr(model, "actions"):
            model = model()  # a recipe: a compiled model is built here, not pickled
        self.shard = Shard(model, shard_id, plan)

    def expand(self, budget: int, at_bound: bool) -> tuple:
        try:
            report = self.shard.expand(budget, at_bound)
        except SpillFull as exc:
            return ("spillfull", str(exc)), *([None] * self.shard.n)
        batches = report.batches
        report.batches = [b is not None for b in batches]
        return (report, *batches)

    def receive(self, data: bytes | None) -> tuple:
        return (0, None) if data is None else self.shard.receive(data)

    def adopt(self, received: tuple) -> int:
        return self.shard.adopt(received)

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.shard, method)(*args)

    def node_id(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()


def _connect(address: str) -> bool:
    """Connect this process to Ray; True if this call started a local instance."""
    # Ray reads this when imported: with it, a node on Linux takes 127.0.0.1 as its
    # address (loopback-only clusters, as the tests use)
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:  # pragma: no cover - ray is a dependency
        raise RayUnavailable("--ray needs the 'ray' package (pip install ray)") from None
    if ray.is_initialized():
        return False
    if address not in ("local", "auto"):
        _reachable(address)
    try:
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False,
                     _node_ip_address="127.0.0.1", configure_logging=False)
            return True
        os.environ.setdefault("RAY_gcs_rpc_server_connect_timeout_s", str(CONNECT_TIMEOUT_S))
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except Exception as exc:  # noqa: BLE001 - ray raises many kinds; one line for all
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RayUnavailable(f"cannot reach a Ray cluster at {address!r}: {text}") from None
    return False


def _reachable(address: str) -> None:
    """Fail at once, with one line, when nothing listens at HOST:PORT (Ray itself retries
    for minutes)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise RayUnavailable(f"--ray {address!r}: expected auto, local or HOST:PORT")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise RayUnavailable(f"cannot reach a Ray cluster at {address!r}: "
                             f"{exc.strerror or exc}") from None


class RayShards:
    """Every shard in a Ray actor (see the module docstring)."""

    name = "ray"

    def __init__(self, model: Any, plan: ShardPlan, owns_ray: bool) -> None:
        import ray

        self.ray = ray
        self.owns_ray = owns_ray
        actor = ray.remote(num_cpus=1)(_ShardActor)
        self.actors = [actor.remote(model, k, plan) for k in range(plan.shards)]
        ray.get([a.call.remote("end_level") for a in self.actors])
        self._running: dict[Any, tuple[int, list]] = {}
        self._received: list[Any] = []
        self._imports: list[Any] = []  # steals' import calls: waited for, for their errors

    @property
    def count(self) -> int:
        return len(self.actors)

    def start_expand(self, shard: int, budget: int, at_bound: bool) -> int:
        refs = self.actors[shard].expand.options(num_returns=self.count + 1).remote(
            budget, at_bound)
        self._running[refs[0]] = (shard, refs[1:])
        return shard

    def start_steal(self, giver: int, taker: int, amount: int, budget: int,
                    at_bound: bool) -> int:
        """As ``InProcess.start_steal``: the export goes from actor to actor (an actor
        runs the calls of one caller in the order they were made)."""
        data = self.actors[giver].call.remote("export", amount)
        self._imports.append(self.actors[taker].call.remote("import_states", data))
        return self.start_expand(taker, budget, at_bound)

    def finished(self) -> list[tuple[int, ExpandReport]]:
        if not self._running:
            return []
        ready, _ = self.ray.wait(list(self._running), num_returns=1)
        done = []
        for ref in ready:
            shard, batch_refs = self._running.pop(ref)
            report = self._get(ref)
            if isinstance(report, tuple) and report and report[0] == "spillfull":
                raise SpillFull(28, report[1])
            self._received.append(report.local_unseen)
            for dest, has_data in enumerate(report.batches):
                if has_data:  # the owner's answer goes to the asking actor, not via here
                    answer = self.actors[dest].receive.remote(batch_refs[dest])
                    self._received.append(self.actors[shard].adopt.remote(answer))
            report.batches = []
            done.append((shard, report))
        return done

    def drain(self) -> list[int]:
        imports, self._imports = self._imports, []
        if imports:
            self._get(imports)
        got, self._received = self._received, []
        refs = [r for r in got if not isinstance(r, int)]
        values = dict(zip(refs, self._get(refs), strict=True)) if refs else {}
        return [r if isinstance(r, int) else values[r] for r in got]

    def _get(self, refs: Any) -> Any:
        try:
            return self.ray.get(refs)
        except self.ray.exceptions.RayTaskError as exc:
            cause = exc.as_instanceof_cause()
            if isinstance(cause, SpillFull):
                raise SpillFull(28, str(cause)) from None
            raise

    def node_ids(self) -> list[str]:
        """The Ray node each shard runs on."""
        return self.ray.get([a.node_id.remote() for a in self.actors])

    def call(self, shard: int, method: str, *args: Any) -> Any:
        self.drain()
        return self._get(self.actors[shard].call.remote(method, *args))

    def call_all(self, method: str, *args: Any) -> list[Any]:
        self.drain()
        return self._get([a.call.remote(method, *args) for a in self.actors])

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []


class RayBackendFactory:
    """A connected cluster; called with ``(model, plan)`` it places the shards."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.owns_ray = _connect(address)

    def cluster_cpus(self) -> int:
        import ray

        return max(int(ray.cluster_resources().get("CPU", 1)), 1)

    def __call__(self, model: Any, plan: ShardPlan) -> RayShards:
        return RayShards(model, plan, self.owns_ray)

    def shutdown(self) -> None:
        """Disconnect; stop the Ray instance if this run started it (``local``)."""
        import ray

        if ray.is_initialized():
            ray.shutdown()


def ray_backend(address: str) -> RayBackendFactory:
    return RayBackendFactory(address)


class _RayFuture:
    def __init__(self, ray: Any, ref: Any) -> None:
        self.ray, self.ref = ray, ref

    def result(self) -> Any:
        return self.ray.get(self.ref)

    def cancel(self) -> bool:
        self.ray.cancel(self.ref)
        return True


class RayExecutor:
    """``submit(fn, *args)`` as Ray tasks (one CPU each), for work that is a pure function
    of its arguments, such as a batch of simulated walks; a ``concurrent.futures``-style
    context manager that disconnects at the end."""

    def __init__(self, connection: RayBackendFactory) -> None:
        import ray

        self.ray = ray
        self.connection = connection
        self._remote: dict[Any, Any] = {}

    def cpus(self) -> int:
        return self.connection.cluster_cpus()

    def submit(self, fn: Any, *args: Any) -> _RayFuture:
        remote = self._remote.get(fn)
        if remote is None:
            remote = self._remote[fn] = self.ray.remote(num_cpus=1)(fn)
        return _RayFuture(self.ray, remote.remote(*args))

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.connection.shutdown()
