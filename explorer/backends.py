"""Where the shards of a partitioned search live: this process, worker processes, or Ray.

A backend only places shards and moves calls and successor batches between them; the
search (``zkcheck.explorer.parallel``) is the same for all. Each shard runs its calls one
at a time in the order they were made (a worker process takes other calls before the
expand calls queued with them), which is what the level loop relies on: batches sent to a
shard before its next ``expand`` are taken in before it.

* ``InProcess``: shards are objects in this process (one shard is the single-process
  search).
* ``Processes``: one worker process per shard, forked (the model is inherited, not
  pickled), talking over a pipe; workers ignore Ctrl-C, the coordinator handles it.
* ``RayShards`` (``zkcheck.explorer.ray_backend``): shards are Ray actors on a cluster.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import signal
import threading
import traceback
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from zkcheck.explorer.frontier import SpillFull, allowed_cpus
from zkcheck.explorer.por import PorError
from zkcheck.explorer.shard import ExpandReport, Shard, ShardPlan


class BackendError(RuntimeError):
    """A shard failed (its error text is the message)."""


class InProcess:
    """Every shard in this process (calls run at once)."""

    name = "in-process"

    def __init__(self, model: Any, plan: ShardPlan) -> None:
        self.shards = [Shard(model, k, plan) for k in range(plan.shards)]
        self._done: list[tuple[int, ExpandReport]] = []
        self._received: list[int] = []

    @property
    def count(self) -> int:
        return len(self.shards)

    def start_expand(self, shard: int, budget: int, at_bound: bool) -> int:
        report = self.shards[shard].expand(budget, at_bound)
        self._received.append(report.local_unseen)
        for dest, batch in enumerate(report.batches):
            if batch is not None:
                self._received.append(
                    self.shards[shard].adopt(self.shards[dest].receive(batch)))
        report.batches = []
        self._done.append((shard, report))
        return shard

    def start_steal(self, giver: int, taker: int, amount: int, budget: int,
                    at_bound: bool) -> int:
        """Move about ``amount`` unexpanded states of the current level from ``giver`` to
        ``taker`` and queue an expand call on ``taker`` (see ``Shard.export``)."""
        self.shards[taker].import_states(self.shards[giver].export(amount))
        return self.start_expand(taker, budget, at_bound)

    def finished(self) -> list[tuple[int, ExpandReport]]:
        done, self._done = self._done, []
        return done

    def drain(self) -> list[int]:
        got, self._received = self._received, []
        return got

    def call_all(self, method: str, *args: Any) -> list[Any]:
        return [getattr(s, method)(*args) for s in self.shards]

    def call(self, shard: int, method: str, *args: Any) -> Any:
        return getattr(self.shards[shard], method)(*args)

    def close(self) -> None:
        for s in self.shards:
            s.close()


def _worker(conn: Connection, model: Any, shard_id: int, plan: ShardPlan,
            cpu: int | None = None) -> None:
    """Run one shard's calls; answers before expansions (see ``Processes``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    gc.disable()  # as in the coordinator: acyclic states, no cyclic garbage to find
    try:
        shard = Shard(model, shard_id, plan)
    except BaseException:  # noqa: BLE001 - reported to the coordinator
        conn.send((None, "error", traceback.format_exc()))
        return
    conn.send((None, "ok", None))
    expands: deque = deque()  # expand calls held back while other calls wait
    while True:
        if expands and not conn.poll():
            message = expands.popleft()
        else:
            try:
                message = conn.recv()
            except EOFError:
                break
            if message is None:
                break
            if message[1] == "expand":
                expands.append(message)
                continue
        call, method, args = message
        try:
            conn.send((call, "ok", getattr(shard, method)(*args)))
        except SpillFull as exc:
            conn.send((call, "spillfull", str(exc)))
        except PorError as exc:
            conn.send((call, "porerror", str(exc)))
        except BaseException:  # noqa: BLE001 - reported to the coordinator
            conn.send((call, "error", traceback.format_exc()))
    shard.close()


class Processes:
    """One forked worker process per shard (see the module docstring).

    Every pipe has a sender thread: a worker sending a large reply and the coordinator
    sending it a large batch would otherwise each wait for the other to read.

    The states of an expand call wait for the owners' answers before they are checked and
    put into the next level, and meanwhile the worker expands on: so that they are still
    in the CPU's cache then, a worker runs the calls waiting in its pipe before the
    expand calls queued with them (an answer waits behind one more expansion, not two),
    and an expansion is half the in-process one's (``chunk``). Results do not depend on
    the order (see ``zkcheck.explorer.parallel``); replies carry their call's number.
    """

    name = "processes"
    chunk = 1024  # states per expand call (see the class docstring)

    def __init__(self, model: Any, plan: ShardPlan) -> None:
        context = multiprocessing.get_context("fork")
        self.cpus = worker_cpus(plan.shards)
        self.conns: list[Connection] = []
        self.procs = []
        self.outboxes: list[queue.SimpleQueue] = []
        self.senders: list[threading.Thread] = []
        # calls in flight per shard, by number: "expand", "receive", "adopt", "import",
        # "call", or ("steal", taker, budget, at_bound) for an export to forward
        self.pending: list[dict[int, Any]] = []
        self.calls = 0
        for k in range(plan.shards):
            parent, child = context.Pipe()
            cpu = self.cpus[k] if self.cpus else None
            proc = context.Process(target=_worker, args=(child, model, k, plan, cpu),
                                   name=f"zkcheck-shard-{k}", daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)
            self.pending.append({})
            outbox: queue.SimpleQueue = queue.SimpleQueue()
            sender = threading.Thread(target=_send_loop, args=(parent, outbox), daemon=True,
                                      name=f"zkcheck-send-{k}")
            sender.start()
            self.outboxes.append(outbox)
            self.senders.append(sender)
        for k in range(plan.shards):
            self._reply(k)
        self._done: list[tuple[int, ExpandReport]] = []
        self._received: list[int] = []

    @property
    def count(self) -> int:
        return len(self.conns)

    def _send(self, shard: int, method: str, args: tuple, kind: Any) -> None:
        self.calls += 1
        self.pending[shard][self.calls] = kind
        self.outboxes[shard].put((self.calls, method, args))

    def _reply(self, shard: int) -> tuple[int | None, Any]:
        """``(call number, value)`` of the shard's next reply."""
        try:
            call, status, value = self.conns[shard].recv()
        except EOFError:
            code = self.procs[shard].exitcode
            raise BackendError(f"shard {shard} died (exit code {code})") from None
        if status == "spillfull":
            raise SpillFull(28, value)
        if status == "porerror":
            raise PorError(value)
        if status == "error":
            raise BackendError(f"shard {shard} failed:\n{value}")
        return call, value

    def _take(self, shard: int) -> tuple[str, Any]:
        call, value = self._reply(shard)
        kind = self.pending[shard].pop(call)
        if kind == "expand":
            report: ExpandReport = value
            self._received.append(report.local_unseen)
            for dest, batch in enumerate(report.batches):
                if batch is not None:
                    self._send(dest, "receive", (batch,), "receive")
            report.batches = []
            self._done.append((shard, report))
        elif kind == "receive":  # the owner's answer goes back to the asking shard
            unseen, answer = value
            self._received.append(unseen)
            if answer is not None:
                self._send(answer[0], "adopt", ((0, answer),), "adopt")
        elif kind == "adopt":
            self._received.append(value)
        elif isinstance(kind, tuple):  # a steal: the giver's states go on to the taker
            _, taker, budget, at_bound = kind
            self._send(taker, "import_states", (value,), "import")
            self._send(taker, "expand", (budget, at_bound), "expand")
        return kind, value

    def start_expand(self, shard: int, budget: int, at_bound: bool) -> int:
        self._send(shard, "expand", (budget, at_bound), "expand")
        return shard

    def start_steal(self, giver: int, taker: int, amount: int, budget: int,
                    at_bound: bool) -> int:
        """As ``InProcess.start_steal``; the giver's export is forwarded when it
        arrives."""
        self._send(giver, "export", (amount,), ("steal", taker, budget, at_bound))
        return taker

    def finished(self) -> list[tuple[int, ExpandReport]]:
        """Block until at least one expand call has finished; forwards its batches."""
        while not self._done:
            busy = [self.conns[k] for k in range(self.count) if self.pending[k]]
            if not busy:
                break
            for conn in wait(busy):
                self._take(self.conns.index(conn))
        done, self._done = self._done, []
        return done

    def drain(self) -> list[int]:
        """Wait for every call in flight (receives) and return the probe answers."""
        while any(self.pending):
            busy = [self.conns[k] for k in range(self.count) if self.pending[k]]
            for conn in wait(busy):
                self._take(self.conns.index(conn))
        got, self._received = self._received, []
        return got

    def call(self, shard: int, method: str, *args: Any) -> Any:
        self.drain()
        self._send(shard, method, args, "call")
        return self._take(shard)[1]

    def call_all(self, method: str, *args: Any) -> list[Any]:
        self.drain()
        for k in range(self.count):
            self._send(k, method, args, "call")
        return [self._take(k)[1] for k in range(self.count)]

    def close(self) -> None:
        for outbox in self.outboxes:
            outbox.put(None)
        for sender in self.senders:
            sender.join(timeout=5)
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for conn in self.conns:
            conn.close()


def _send_loop(conn: Connection, outbox: queue.SimpleQueue) -> None:
    """Send queued messages in order; ``None`` is sent last and ends the loop."""
    while True:
        message = outbox.get()
        try:
            conn.send(message)
        except OSError:
            return
        if message is None:
            return


def worker_cpus(workers: int) -> list[int]:
    """The CPU each worker process is pinned to, or none (an empty list).

    A run whose workers take every CPU this process may use (``--workers 0``, or 2 on a
    2-core machine) pins worker k to the k-th of them: unpinned, the scheduler moved the
    workers between the cores and each move cost its caches (measured on this project's
    2-core machine, depth 18, 6 alternating pairs: 2 workers pinned 95,000-117,000
    states/s and 15.1-17.7 s of CPU, unpinned 78,000-115,000 and 15.1-22.1 s). A run that
    leaves CPUs free is not pinned, so that a second run on the same machine does not land
    on the same cores."""
    allowed = allowed_cpus() or []
    return allowed if workers == len(allowed) > 1 else []


def workers_for(requested: int) -> int:
    """``--workers 0`` means every core this process may use."""
    if requested < 0:
        raise ValueError(f"--workers must be >= 0, got {requested}")
    if requested == 0:
        return len(allowed_cpus() or []) or os.cpu_count() or 1
    return requested


BackendFactory = Callable[[Any, ShardPlan], Any]
