"""Run a real ZooKeeper 3.8 ensemble (Debian package) on 127.0.0.1 and observe it.

The recipe and its pitfalls are in shared/reference/real-zookeeper.md: the Debian
classpath needs the log4j binding added by hand (otherwise logs vanish), the admin server
must be off, ports stay below 32768, crashes are SIGKILL. Every JVM this module starts is
tracked by PID and killed by PID -- by ``Ensemble.close`` (context manager), by an
``atexit`` hook, and by the kernel if the Python process dies (PR_SET_PDEATHSIG). Nothing
else is ever signalled.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from zkcheck.conformance.datadir import epoch_file, last_logged_zxid

JAVA = "/usr/bin/java"
JARS = ("/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-log4j12.jar",
        "/usr/share/java/log4j-1.2.jar")
JVM_FLAGS = ("-Xms16m", "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
             "-XX:ReservedCodeCacheSize=32m", "-XX:MaxMetaspaceSize=96m")
PORT_LOW, PORT_HIGH = 20000, 32000  # below the ephemeral range (32768-60999)
POLL = 0.05
INIT_LIMIT, SYNC_LIMIT = 10, 5  # ticks

LOG4J = """\
log4j.rootLogger=INFO, OUT
log4j.appender.OUT=org.apache.log4j.ConsoleAppender
log4j.appender.OUT.layout=org.apache.log4j.PatternLayout
log4j.appender.OUT.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] %-5p [%t] %c{1} - %m%n
log4j.logger.org.apache.zookeeper.server.quorum.FastLeaderElection=DEBUG
"""

_RUNNING: dict[int, subprocess.Popen] = {}
"""Every JVM started by this process and not yet reaped, by PID."""


class HarnessError(RuntimeError):
    """The real ensemble did not do what a step needs (missing install, no leader, ...)."""


def missing_install() -> list[str]:
    """Files the harness needs that are absent (empty when ZooKeeper is installed)."""
    return [p for p in (JAVA, *JARS) if not Path(p).exists()]


def _kill_pid(pid: int) -> None:
    proc = _RUNNING.pop(pid, None)
    if proc is None:
        return
    if proc.poll() is None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
        pass


@atexit.register
def kill_all_started() -> None:
    """Kill every JVM this process started (by PID) -- the last line of defence."""
    for pid in list(_RUNNING):
        _kill_pid(pid)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask the kernel to SIGKILL the JVM if the harness process dies first."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_block(count: int, rng: random.Random | None = None, attempts: int = 200) -> int:
    """A base port such that ``base .. base+count-1`` are all free on 127.0.0.1 now."""
    rng = rng or random.Random(os.getpid() ^ time.time_ns())
    for _ in range(attempts):
        base = rng.randrange(PORT_LOW, PORT_HIGH - count)
        if all(_port_free(base + k) for k in range(count)):
            return base
    raise HarnessError(f"no block of {count} free ports found in {PORT_LOW}..{PORT_HIGH}")


def four_letter(port: int, word: str = "srvr", timeout: float = 1.0) -> str | None:
    """Send a four-letter word to 127.0.0.1:port; the answer, or None if refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(word.encode())
            chunks = []
            while True:
                data = s.recv(4096)
                if not data:
                    break
                chunks.append(data)
    except OSError:
        return None
    return b"".join(chunks).decode(errors="replace")


@dataclass(frozen=True)
class Status:
    """What ``srvr`` says: mode is down, looking (also: syncing), leader, follower."""

    mode: str
    zxid: int | None = None


def parse_srvr(text: str | None) -> Status:
    if text is None:
        return Status("down")
    if "not currently serving" in text:
        return Status("looking")
    mode, zxid = "looking", None
    for line in text.splitlines():
        if line.startswith("Mode:"):
            mode = line.split(":", 1)[1].strip()
        elif line.startswith("Zxid:"):
            zxid = int(line.split(":", 1)[1].strip(), 16)
    return Status(mode, zxid)


@dataclass(frozen=True)
class Persistent:
    """A server's persistent FLE inputs: epochs from dataDir/version-2, lastZxid."""

    current_epoch: int
    accepted_epoch: int
    last_zxid: int


@dataclass
class JournalEntry:
    """One harness action (the observable faults and client activity), with wall time."""

    time: float
    kind: str  # start | kill | pause | resume | write | stop (all servers, at the end)
    sid: int
    detail: str = ""


@dataclass
class Ensemble:
    """N servers with per-run ports and data dirs under ``run_dir``; the sids in
    ``observers`` are non-voting observers (``peerType=observer``).

    Use as a context manager; every JVM is SIGKILLed by PID on exit, on error, and at
    interpreter exit. Each incarnation of a server logs to its own file, so that a restart
    starts a fresh FLE log (the process, and with it logicalclock, is new).
    """

    n: int
    run_dir: Path
    tick_ms: int = 200
    base_port: int | None = None
    journal: list[JournalEntry] = field(default_factory=list)
    procs: dict[int, subprocess.Popen] = field(default_factory=dict)
    incarnations: dict[int, int] = field(default_factory=dict)
    last_zxid_seen: dict[int, int] = field(default_factory=dict)
    observers: frozenset[int] = frozenset()
    paused: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("an ensemble needs at least one server")
        self.observers = frozenset(self.observers)
        if not self.observers <= set(self.sids) or self.observers == set(self.sids):
            raise ValueError("observers must be servers of the ensemble, and not all of them")
        self.run_dir = Path(self.run_dir)
        if self.base_port is None:
            self.base_port = free_port_block(3 * self.n)

    # ----------------------------------------------------------------- layout

    @property
    def sids(self) -> tuple[int, ...]:
        return tuple(range(1, self.n + 1))

    def client_port(self, sid: int) -> int:
        return self.base_port + 3 * (sid - 1)

    def _quorum_port(self, sid: int) -> int:
        return self.base_port + 3 * (sid - 1) + 1

    def _election_port(self, sid: int) -> int:
        return self.base_port + 3 * (sid - 1) + 2

    def server_dir(self, sid: int) -> Path:
        return self.run_dir / f"s{sid}"

    def data_dir(self, sid: int) -> Path:
        return self.server_dir(sid) / "data"

    def log_paths(self, sid: int) -> list[Path]:
        """The FLE/server log of each incarnation of ``sid``, oldest first."""
        return [self.server_dir(sid) / f"server.{k}.log"
                for k in range(1, self.incarnations.get(sid, 0) + 1)]

    def prepare(self) -> None:
        """Fresh config, myid and empty dataDir for every server (stale dirs change votes)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "log4j.properties").write_text(LOG4J)
        servers = "".join(f"server.{s}=127.0.0.1:{self._quorum_port(s)}:{self._election_port(s)}"
                          + (":observer\n" if s in self.observers else "\n") for s in self.sids)
        for sid in self.sids:
            data = self.data_dir(sid)
            if data.exists():
                for path in sorted(data.rglob("*"), reverse=True):
                    path.rmdir() if path.is_dir() else path.unlink()
            data.mkdir(parents=True, exist_ok=True)
            (data / "myid").write_text(f"{sid}\n")
            (self.server_dir(sid) / "zoo.cfg").write_text(
                f"tickTime={self.tick_ms}\ninitLimit={INIT_LIMIT}\nsyncLimit={SYNC_LIMIT}\n"
                f"dataDir={data}\nclientPort={self.client_port(sid)}\n"
                "clientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
                "4lw.commands.whitelist=*\n"
                + ("peerType=observer\n" if sid in self.observers else "") + servers)

    # ----------------------------------------------------------------- processes

    def start(self, sid: int) -> None:
        """Launch server ``sid`` (a new incarnation with its own log file)."""
        if missing := missing_install():
            raise HarnessError(f"ZooKeeper is not installed (missing {', '.join(missing)}); "
                               "run 'make system'")
        if self.is_running(sid):
            raise HarnessError(f"server {sid} is already running")
        k = self.incarnations.get(sid, 0) + 1
        self.incarnations[sid] = k
        log = (self.server_dir(sid) / f"server.{k}.log").open("wb")
        cmd = [JAVA, *JVM_FLAGS,
               f"-Dlog4j.configuration=file:{self.run_dir / 'log4j.properties'}",
               "-Dzookeeper.fastleader.maxNotificationInterval=1000",
               "-cp", ":".join(JARS), "org.apache.zookeeper.server.quorum.QuorumPeerMain",
               str(self.server_dir(sid) / "zoo.cfg")]
        self.journal.append(JournalEntry(time.time(), "start", sid))
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        log.close()
        _RUNNING[proc.pid] = proc
        self.procs[sid] = proc
        with (self.run_dir / "pids.txt").open("a") as f:
            f.write(f"{sid} {proc.pid}\n")

    def sync_timeout(self) -> float:
        """Seconds after which a leader drops a silent follower and a follower gives up a
        silent leader (syncLimit ticks)."""
        return SYNC_LIMIT * self.tick_ms / 1000

    def kill(self, sid: int) -> None:
        """Crash server ``sid``: SIGKILL by PID (exits in ~10 ms, frees its ports at once)."""
        proc = self.procs.pop(sid, None)
        if proc is None:
            raise HarnessError(f"server {sid} is not running")
        status = self.status(sid)
        if status.zxid is not None:
            self.last_zxid_seen[sid] = status.zxid
        self.journal.append(JournalEntry(time.time(), "kill", sid))
        self.paused.discard(sid)
        _kill_pid(proc.pid)

    def pause(self, sid: int) -> None:
        """Freeze server ``sid`` (SIGSTOP by PID): its sockets stay open, its peers' messages
        wait in its buffers, and it takes no step until ``resume``."""
        self._signal(sid, signal.SIGSTOP, "pause")
        self.paused.add(sid)

    def resume(self, sid: int) -> None:
        """Thaw a paused server (SIGCONT by PID)."""
        if sid not in self.paused:
            raise HarnessError(f"server {sid} is not paused")
        self._signal(sid, signal.SIGCONT, "resume")
        self.paused.discard(sid)

    def _signal(self, sid: int, sig: signal.Signals, kind: str) -> None:
        proc = self.procs.get(sid)
        if proc is None or proc.poll() is not None:
            raise HarnessError(f"server {sid} is not running")
        if kind == "pause":  # the last srvr answer before it stops answering
            status = self.status(sid)
            if status.zxid is not None:
                self.last_zxid_seen[sid] = status.zxid
        self.journal.append(JournalEntry(time.time(), kind, sid))
        os.kill(proc.pid, sig)

    def is_running(self, sid: int) -> bool:
        proc = self.procs.get(sid)
        return proc is not None and proc.poll() is None

    def running(self) -> tuple[int, ...]:
        """Servers that are alive and not paused (a paused one answers nothing)."""
        return tuple(s for s in self.sids if self.is_running(s) and s not in self.paused)

    def close(self) -> None:
        """Kill every running server; journaled like a kill, since the survivors' reaction
        (back to LOOKING) must not be read as part of the last episode."""
        if self.procs:
            self.journal.append(JournalEntry(time.time(), "stop", 0))
        self.paused.clear()  # SIGKILL ends a stopped process too
        for sid in list(self.procs):
            proc = self.procs.pop(sid)
            _kill_pid(proc.pid)

    def __enter__(self) -> Ensemble:
        self.prepare()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- observation

    def status(self, sid: int) -> Status:
        return parse_srvr(four_letter(self.client_port(sid)))

    def _check_alive(self, sids: Iterable[int]) -> None:
        for sid in sids:
            proc = self.procs.get(sid)
            if proc is not None and proc.poll() is not None:
                tail = self.log_paths(sid)[-1].read_text(errors="replace")[-800:]
                raise HarnessError(f"server {sid} (pid {proc.pid}) exited with code "
                                   f"{proc.returncode}; log tail:\n{tail}")

    def wait_stable(self, timeout: float = 20.0) -> int:
        """Poll ``srvr`` until exactly one running server leads and the rest follow (or,
        observers, observe). Paused servers are left out.

        Returns the leader's sid. A server still starting answers "down" and keeps the
        ensemble unstable, so a late launch is always included.
        """
        up = self.running()
        deadline = time.monotonic() + timeout
        modes: dict[int, Status] = {}
        while time.monotonic() < deadline:
            self._check_alive(up)
            modes = {s: self.status(s) for s in up}
            leaders = [s for s, st in modes.items() if st.mode == "leader"]
            if len(leaders) == 1 and all(
                    st.mode == ("observer" if s in self.observers else "follower")
                    for s, st in modes.items() if s != leaders[0]):
                for s, st in modes.items():
                    if st.zxid is not None:
                        self.last_zxid_seen[s] = st.zxid
                return leaders[0]
            time.sleep(POLL)
        raise HarnessError(f"no stable leader among {list(up)} within {timeout} s: "
                           + ", ".join(f"{s}={st.mode}" for s, st in modes.items()))

    def wait_looking(self, sids: Iterable[int], timeout: float = 10.0) -> None:
        """Wait until every server in ``sids`` answers but is not serving (LOOKING, or
        still syncing); a server that was not started yet counts as down, not looking."""
        sids = tuple(sids)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(s for s in sids if s in self.procs)
            if all(self.status(s).mode == "looking" if self.is_running(s)
                   else True for s in sids):
                return
            time.sleep(POLL)
        raise HarnessError(f"servers {list(sids)} still serving after {timeout} s")

    def persistent(self, sid: int) -> Persistent:
        """currentEpoch/acceptedEpoch from the dataDir files (0 when not yet written) and
        the last zxid: for a server that is down, the one it reloads from its dataDir
        (``datadir.last_logged_zxid``); for a live one, the last ``srvr`` value (a
        follower's last processed zxid; the runner checks it against the logs)."""
        version2 = self.data_dir(sid) / "version-2"
        zxid = (last_logged_zxid(version2) if not self.is_running(sid)
                else self.last_zxid_seen.get(sid, 0))
        return Persistent(epoch_file(version2, "currentEpoch"),
                          epoch_file(version2, "acceptedEpoch"), zxid)

    # ----------------------------------------------------------------- clients

    def write(self, via: int, count: int, timeout: float = 10.0) -> None:
        """``count`` creates through server ``via`` with kazoo, so that zxids grow on the
        servers that are up (and not on the ones that are down)."""
        import logging

        from kazoo.client import KazooClient

        logging.getLogger("kazoo").setLevel(logging.ERROR)
        client = KazooClient(hosts=f"127.0.0.1:{self.client_port(via)}", timeout=timeout,
                             connection_retry={"max_tries": 3}, command_retry={"max_tries": 3})
        client.start(timeout=timeout)
        try:
            for _ in range(count):
                client.create("/zkcheck-", b"x", sequence=True)
        finally:
            client.stop()
            client.close()
        self.journal.append(JournalEntry(time.time(), "write", via, str(count)))
