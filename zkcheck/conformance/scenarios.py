"""Scripted conformance scenarios: a tiny step language run against the real ensemble.

Steps (``ensemble`` picks a server with ``"leader"``):

* ``start(*sids, wait=...)`` -- launch servers together; then wait until the ensemble is
  ``stable`` (one leader, the rest followers), every running server is ``looking`` (no
  quorum yet), or ``none``.
* ``kill(sid_or_leader, wait=...)`` -- SIGKILL (crash semantics), then wait likewise.
* ``write(count, via="leader")`` -- client creates through kazoo, so zxids diverge from
  servers that are down.
* ``pause(sid_or_leader)`` -- SIGSTOP: a paused leader's followers give up after syncLimit
  ticks and elect among themselves (wait stable); a paused follower is held until the
  leader has dropped it. ``resume(sid_or_paused)`` -- SIGCONT (``"paused"``: the one
  paused server), then wait until the server went LOOKING and the ensemble is stable
  again; it must rejoin under the leader in place.

A scenario may name ``observers`` (``peerType=observer``): they vote in no quorum and
must end OBSERVING.

Each scenario names what it is meant to exercise; the expected leader is never written
here -- the model predicts it and the real ensemble decides it.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkcheck.errors import InputError


@dataclass(frozen=True)
class Step:
    op: str  # start | kill | write | pause | resume | restart-killed
    sids: tuple[int | str, ...] = ()
    wait: str = "stable"
    count: int = 0


def start(*sids: int, wait: str = "stable") -> Step:
    return Step("start", sids, wait)


def kill(sid: int | str = "leader", wait: str = "stable") -> Step:
    return Step("kill", (sid,), wait)


def write(count: int, via: int | str = "leader") -> Step:
    return Step("write", (via,), "none", count)


def pause(sid: int | str = "leader") -> Step:
    return Step("pause", (sid,))


def resume(sid: int | str = "paused") -> Step:
    return Step("resume", (sid,))


@dataclass(frozen=True)
class Scenario:
    name: str
    n: int
    steps: tuple[Step, ...]
    about: str
    observers: frozenset[int] = frozenset()


def _failovers(n: int, times: int) -> tuple[Step, ...]:
    steps: list[Step] = [start(*range(1, n + 1))]
    for _ in range(times):
        steps += [kill("leader"), Step("restart-killed")]
    return tuple(steps)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("fresh3-simultaneous", 3, (start(1, 2, 3),),
             "3 fresh servers launched together"),
    Scenario("fresh3-order-123", 3, (start(1, wait="looking"), start(2), start(3)),
             "one at a time: the first quorum {1,2} decides, 3 joins"),
    Scenario("fresh3-order-312", 3, (start(3, wait="looking"), start(1), start(2)),
             "one at a time starting with the highest sid"),
    Scenario("fresh3-order-231", 3, (start(2, wait="looking"), start(3), start(1)),
             "one at a time, middle sid first"),
    Scenario("fresh5-simultaneous", 5, (start(1, 2, 3, 4, 5),),
             "5 fresh servers launched together (racy on 2 cores: non-maximal leaders)"),
    Scenario("fresh5-order-12345", 5, (start(1, wait="looking"), start(2, wait="looking"),
                                       start(3), start(4), start(5)),
             "one at a time: {1,2,3} decides, 4 and 5 join"),
    Scenario("fresh5-order-54321", 5, (start(5, wait="looking"), start(4, wait="looking"),
                                       start(3), start(2), start(1)),
             "one at a time from the top"),
    Scenario("late-joiner-3", 3, (start(1, 2), start(3)),
             "3 joins an established {1,2} ensemble and must follow 2"),
    Scenario("late-joiner-5", 5, (start(1, 2, 3), start(4), start(5)),
             "4 and 5 join an established {1,2,3} ensemble"),
    Scenario("crash3-equal-zxid", 3, (start(1, 2, 3), write(5), kill("leader")),
             "leader crash, survivors with equal zxids: highest surviving sid"),
    Scenario("crash5-equal-zxid", 5, (start(1, 2, 3, 4, 5), write(5), kill("leader")),
             "5 servers, leader crash with equal zxids"),
    Scenario("crash3-different-zxid", 3,
             (start(1, 2, 3), kill(1, wait="stable"), write(5), kill("leader", wait="looking"),
              start(1)),
             "leader crash; the stale 1 rejoins the up-to-date 2: 2 must win"),
    Scenario("stale-higher-sid-3", 3,
             (start(1, 2, 3), kill(3), write(5), kill("leader", wait="looking"), start(3)),
             "up-to-date lower sid 1 against stale higher sid 3"),
    Scenario("stale-higher-sid-5", 5,
             (start(1, 2, 3, 4, 5), kill(3), kill(4), write(10),
              kill("leader", wait="looking"), start(3), start(4), start(5)),
             "scenario E: {1,2} up to date, stale 3 arrives: 2 wins, 4 and 5 follow"),
    Scenario("crash5-two-stale", 5,
             (start(1, 2, 3, 4, 5), kill(1), kill(2), write(5),
              kill("leader", wait="looking"), start(1)),
             "two stale low sids, leader crash, stale 1 restores the quorum"),
    Scenario("epoch-beats-sid-3", 3,
             (start(1, 2, 3), write(5), kill("leader"), kill(1, wait="none"),
              kill("leader", wait="none"), start(3, wait="looking"), start(1)),
             "higher epoch (1, epoch 2) against higher sid (3, epoch 1) at equal zxid"),
    Scenario("restart-all-3", 3,
             (start(1, 2, 3), write(3), kill(1, wait="none"), kill(2, wait="none"),
              kill(3, wait="none"), start(1, 2, 3)),
             "whole ensemble killed after writes and restarted from disk"),
    Scenario("quorum-loss-3", 3,
             (start(1, 2, 3), write(2), kill(1, wait="none"), kill(2, wait="looking"),
              start(2)),
             "both followers die, the leader steps down, one follower returns"),
    Scenario("quorum-loss-no-writes-3", 3,
             (start(1, 2, 3), kill(2), write(5), kill("leader", wait="looking"), start(2),
              kill(2, wait="looking"), start(2)),
             "leader 1 of epoch 2 (no writes in it) loses its only follower 2, which "
             "returns: 1's in-memory zxid (2, 0) beats 2's disk zxid (1, 5) despite the sid"),
    Scenario("failover-writes-5", 5,
             (start(1, 2, 3, 4, 5), write(3), kill("leader"), write(3), kill("leader")),
             "two leader crashes with writes in between"),
    Scenario("failover3-repeated", 3, _failovers(3, 4),
             "leader killed and restarted 4 times"),
    Scenario("failover5-repeated", 5, _failovers(5, 4),
             "leader killed and restarted 4 times, 5 servers"),
    Scenario("restart-all-reverse-3", 3,
             (start(1, 3), start(2), write(3), kill("leader"),
              kill(1, wait="none"), kill(2, wait="none"), start(3, wait="looking"), start(2),
              start(1)),
             "a failover without writes leaves ex-leader 2 down with srvr zxid 2<<32 (its "
             "dataDir has 1:5); the whole ensemble is restarted from sid 3 down"),
    Scenario("paused-leader-3", 3,
             (start(1, 2, 3), write(3), pause("leader"), resume()),
             "SIGSTOP the leader: its followers give up after syncLimit and elect; after "
             "SIGCONT it must rejoin as a follower"),
    Scenario("paused-follower-3", 3,
             (start(1, 2, 3), pause(1), resume(), kill("leader")),
             "SIGSTOP a follower past syncLimit: no election; after SIGCONT it rejoins"),
    Scenario("observer-3+1", 4,
             (start(4, wait="looking"), start(1, 2), start(3), kill("leader")),
             "observer 4 (the highest sid) waits alone, voters 1 and 2 elect 2 (counted as a "
             "voter, 4 would be the only leader a 4-voter quorum allows), 3 joins; then a "
             "leader crash with the observer up",
             observers=frozenset({4})),
)

BY_NAME = {s.name: s for s in SCENARIOS}


def select(names: tuple[str, ...] | list[str]) -> list[Scenario]:
    """Scenarios by name (all when empty); unknown names are bad input."""
    if not names:
        return list(SCENARIOS)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise InputError(f"unknown scenario {', '.join(unknown)} "
                         f"(known: {', '.join(BY_NAME)})")
    return [BY_NAME[n] for n in names]
