"""Run one scenario on a real ensemble and cut it into election episodes.

An episode opens when the running servers are LOOKING (fresh start, leader killed or
paused, quorum lost) and records its model inputs at that moment: currentEpoch/
acceptedEpoch from the dataDir files, and the last zxid -- read from the dataDir for a
server that is down (what it reloads when it comes back; a down ex-leader's last ``srvr``
value is its next-zxid counter, not its vote), else the last value ``srvr`` reported.
After the run each participant's input zxid is checked against the ``New election ...
proposed zxid`` line it logged -- the value FLE really used -- and replaced by it (with a
note) when they differ (real-zookeeper.md §5.8: zxids move in ways that are easy to
mis-read). An observer's vote carries no zxid (the minimum), so its input is left alone.

A paused leader (SIGSTOP) opens an episode like a crashed one: its followers give up
after syncLimit ticks and elect among themselves while it takes no step; when it is
resumed it must rejoin under the leader in place, as a joiner must (docs/conformance.md,
"Paused servers").
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from zkcheck.conformance.fle_log import Event, parse_file
from zkcheck.conformance.harness import Ensemble, HarnessError
from zkcheck.conformance.observations import window_start
from zkcheck.conformance.predict import Episode
from zkcheck.conformance.scenarios import Scenario, Step


@dataclass
class EpisodeRun:
    """One election episode as it happened on the real ensemble."""

    episode: Episode
    t0: float
    leader: int | None = None
    joined: list[tuple[int, int]] = field(default_factory=list)  # (joiner, leader after)
    t_stable: float | None = None
    joinable: bool = True

    @property
    def seconds(self) -> float | None:
        return None if self.t_stable is None else self.t_stable - self.t0


@dataclass
class ScenarioRun:
    scenario: Scenario
    episodes: list[EpisodeRun]
    events: list[Event]
    seconds: float
    run_dir: Path
    journal: list = field(default_factory=list)


class _Runner:
    def __init__(self, ens: Ensemble) -> None:
        self.ens = ens
        self.episodes: list[EpisodeRun] = []
        self.open: EpisodeRun | None = None
        self.stable = False
        self.last_killed: int | None = None
        self.leader: int | None = None

    def _inputs(self) -> tuple[tuple[tuple[int, int, int, int], ...], tuple[str, ...]]:
        out, notes = [], []
        for sid in self.ens.sids:
            p = self.ens.persistent(sid)
            seen = self.ens.last_zxid_seen.get(sid)
            if not self.ens.is_running(sid) and seen is not None and seen != p.last_zxid:
                notes.append(f"server {sid} (down): srvr zxid {seen:#x}, dataDir "
                             f"{p.last_zxid:#x}")
            out.append((sid, p.current_epoch, p.accepted_epoch, p.last_zxid))
        return tuple(out), tuple(notes)

    def _open(self, up: set[int], crashed: int | None = None) -> EpisodeRun:
        if set(self.ens.paused) - {crashed}:
            raise ValueError("an election with a paused server other than the old leader is "
                             "not an episode this runner can predict")
        t0 = time.time()  # before the inputs are read: the election is already under way
        inputs, notes = self._inputs()
        ep = Episode(self.ens.n, inputs, frozenset(up), crashed=crashed, notes=notes,
                     observers=self.ens.observers, paused=frozenset(self.ens.paused))
        self.open = EpisodeRun(ep, t0)
        self.episodes.append(self.open)
        return self.open

    def _close_joins(self) -> None:
        if self.open is not None:
            self.open.joinable = False

    def _wait(self, wait: str, sids: tuple[int, ...] = ()) -> int | None:
        if wait == "stable":
            self.leader = self.ens.wait_stable()
            self.stable = True
            return self.leader
        self.stable = False
        self.leader = None
        if wait == "looking":
            self.ens.wait_looking(self.ens.running())
        return None

    def _target(self, target: int | str) -> int:
        if target != "leader":
            return int(target)
        if self.leader is None:
            raise ValueError("no leader is known at this point")
        return self.leader

    def step(self, step: Step) -> None:
        ens = self.ens
        if step.op in ("pause", "resume"):
            self._pause(step) if step.op == "pause" else self._resume(step)
            return
        if step.op == "restart-killed":
            step = Step("start", (self.last_killed,), "stable")
        if step.op == "start":
            sids = tuple(int(s) for s in step.sids)
            ep = self.open
            if self.stable and ep is not None and ep.joinable and ep.leader is not None:
                if step.wait != "stable":
                    raise ValueError("a join must wait for a stable ensemble")
                ep.episode = replace(ep.episode,
                                     boots_join=ep.episode.boots_join + sids)
                for sid in sids:
                    ens.start(sid)
                leader = self._wait("stable")
                ep.joined.extend((sid, leader) for sid in sids)
                return
            if self.stable:
                raise ValueError("start into a stable ensemble after writes or kills is not "
                                 "an episode this runner can predict")
            if ep is None or ep.leader is not None:
                ep = self._open(set(ens.running()) | set(sids))
            else:
                ep.episode = replace(ep.episode, boots_any=ep.episode.boots_any | set(sids))
            for sid in sids:
                ens.start(sid)
            leader = self._wait(step.wait)
            if leader is not None:
                ep.leader, ep.t_stable = leader, time.time()
            return
        if step.op == "write":
            self._close_joins()
            via = self.leader if step.sids[0] == "leader" else int(step.sids[0])
            ens.write(via, step.count)
            time.sleep(0.2)
            self._wait("stable")  # refreshes every running server's srvr zxid
            return
        if step.op == "kill":
            target = step.sids[0]
            sid = self.leader if target == "leader" else int(target)
            if sid is None:
                raise ValueError("kill leader: no leader is known at this point")
            was_leader = sid == self.leader
            self._close_joins()
            ens.kill(sid)
            self.last_killed = sid
            if step.wait == "none":  # part of a sequence of kills: no election observed
                self.open, self.stable = None, False
                if was_leader:
                    self.leader = None
                return
            if step.wait == "looking" or was_leader:
                ep = self._open(set(ens.running()), sid if was_leader else None)
                leader = self._wait(step.wait)
                if leader is not None:
                    ep.leader, ep.t_stable = leader, time.time()
                return
            self._wait(step.wait)
            return
        raise ValueError(f"unknown step {step.op!r}")

    def _pause(self, step: Step) -> None:
        """SIGSTOP a server. A paused leader opens an episode (its followers give up after
        syncLimit ticks and elect); a paused follower is held long enough for the leader
        to drop it, and the others stay stable."""
        ens = self.ens
        sid = self._target(step.sids[0])
        was_leader = sid == self.leader
        self._close_joins()
        ens.pause(sid)
        if was_leader:
            ep = self._open(set(ens.running()), sid)
            leader = self._wait("stable")
            ep.leader, ep.t_stable = leader, time.time()
            return
        time.sleep(ens.sync_timeout() + 0.5)
        self._wait("stable")

    def _resume(self, step: Step) -> None:
        """SIGCONT a paused server; it must return to LOOKING and rejoin the leader in
        place (checked like a joiner's, against the open episode's leader)."""
        ens = self.ens
        if step.sids[0] != "paused":
            sid = int(step.sids[0])
        elif len(ens.paused) == 1:
            sid = next(iter(ens.paused))
        else:
            raise ValueError(f"resume: {len(ens.paused)} servers are paused, name one")
        since = time.time()
        ens.resume(sid)
        wait_relooking(ens, sid, since)
        leader = self._wait("stable")
        if self.open is not None:
            self.open.joined.append((sid, leader))


def wait_relooking(ens: Ensemble, sid: int, since: float, timeout: float = 10.0) -> None:
    """Wait until ``sid``'s current log shows it went LOOKING after ``since`` (a resumed
    server first answers ``srvr`` in its old role, before it notices it was dropped)."""
    path = ens.log_paths(sid)[-1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e.kind == "state" and e.my_state == "LOOKING" and e.time >= since - 0.002
               for e in parse_file(path, sid)):
            return
        time.sleep(0.05)
    raise HarnessError(f"server {sid} did not go LOOKING within {timeout} s of its resume")


def _correct_inputs(run: EpisodeRun, events: list[Event], t_end: float,
                    journal: list) -> None:
    """Use each participant's first logged "New election" zxid in the episode window,
    which starts no earlier than the harness action that opened it (``window_start``: a
    resumed follower's rejoin election just before a kill is not this episode's)."""
    ep = run.episode
    lo = window_start(run.t0, journal)
    inputs = {sid: (ce, ae, z) for sid, ce, ae, z in ep.inputs}
    notes = list(ep.notes)
    for sid in sorted((ep.participants | set(ep.boots_join)) - ep.observers):
        first = next((e for e in events if e.sid == sid and e.kind == "new_election"
                      and lo <= e.time <= t_end), None)
        if first is None:
            continue
        ce, ae, z = inputs[sid]
        if first.zxid != z:
            notes.append(f"server {sid}: srvr zxid {z:#x}, FLE proposed {first.zxid:#x}")
            inputs[sid] = (ce, ae, first.zxid)
    run.episode = replace(ep, inputs=tuple((s, *inputs[s]) for s in sorted(inputs)),
                          notes=tuple(notes))


def run_scenario(scenario: Scenario, run_dir: Path | None = None) -> ScenarioRun:
    """Run ``scenario`` on a fresh ensemble (stopped by PID whatever happens)."""
    base = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix=f"zkc-{scenario.name}-"))
    t = time.monotonic()
    with Ensemble(scenario.n, base, observers=scenario.observers) as ens:
        runner = _Runner(ens)
        for step in scenario.steps:
            runner.step(step)
        ens.close()
        events: list[Event] = []
        for sid in ens.sids:
            for life, path in enumerate(ens.log_paths(sid), 1):
                events.extend(parse_file(path, sid, life))
        journal = list(ens.journal)
    events.sort(key=lambda e: e.time)
    ends = [r.t0 for r in runner.episodes[1:]] + [time.time()]
    for r, t_end in zip(runner.episodes, ends, strict=True):
        _correct_inputs(r, events, t_end, journal)
    return ScenarioRun(scenario, runner.episodes, events, time.monotonic() - t, base, journal)
