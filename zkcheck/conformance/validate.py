"""Trace validation: find a model behaviour that explains the events a real election logged.

This module runs one episode's validation end to end: it reads the episode's logged
streams and the model's starting point from the logs (``observations``), builds the
episode's model (``episode_model``), searches it for a path producing exactly those
streams (``trace_search.TraceSearch``) and reports the outcome (``Validation``). It
succeeds when every event is consumed and the model reaches a stable ensemble under the
real leader; otherwise it reports the first event it could not explain at the furthest
point reached, with the model state there.

The searches run in a fixed order: the reduced search (fast; a failure proves nothing)
before the complete one, each first with every receipt's logged state as the model's,
then with the racy state read allowed (``observations.state_read_race``; tried after the
plain reduced search, and in the complete search only when the plain complete one proves
that no plain path exists). A stale WorkerReceiver reply, which the model cannot produce,
is reported as that known modelling limit, inconclusive (``observations.stale_replies``),
once everything logged before it is explained -- unless the model has non-atomic replies
(``validate(nonatomic_replies=True)``), which produce them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from zkcheck.conformance.fle_log import Event
from zkcheck.conformance.observations import (
    OWN,
    keep_returns,
    link_breaks,
    observed_streams,
    receipt_time,
    stale_replies,
    start_clocks,
    window_end,
    window_start,
    wire_capacity,
)
from zkcheck.conformance.predict import Episode
from zkcheck.conformance.trace_search import TraceSearch
from zkcheck.errors import InputError
from zkcheck.model.fle import FLEModel


@dataclass
class Validation:
    """The outcome of one episode's validation, as ``zkcheck conform`` and ``logs`` report it."""

    explained: bool
    events: int
    consumed: int
    states: int
    first_unexplained: str | None = None
    model_state: Any = None
    reason: str = ""
    skipped: list[str] = field(default_factory=list)
    steps: int = 0  # length of the replayed witness
    clocks: dict[int, int] = field(default_factory=dict)  # real start logicalclocks used
    races: int = 0  # receipts logged with the receiver's state before its change
    model: Any = None  # the episode's model (when explained)
    witness: list = field(default_factory=list)  # (label, state) of the replayed path

    def text(self) -> str:
        if self.explained:
            races = (f", {self.races} receipt(s) logged with the state before its change"
                     if self.races else "")
            return (f"explained ({self.events} events, {self.states} states, "
                    f"witness of {self.steps} steps{races})")
        return (f"NOT explained after {self.consumed}/{self.events} events "
                f"({self.reason}): {self.first_unexplained}")


def episode_model(episode: Episode, clocks: dict[int, int], max_round: int,
                  timeouts: int, reconnects: int = 0, wire_capacity: int = 1,
                  variant: Any = None, nonatomic_replies: bool = False) -> FLEModel:
    """The episode's model with every up server at its real logicalclock (``InputError``
    when a round is beyond what the model represents); ``nonatomic_replies``: the
    WorkerReceiver's replies as steps of their own (``Bounds.nonatomic_replies``)."""
    base = episode.config(max_round=max_round, timeouts=timeouts, reconnects=reconnects,
                          wire_capacity=wire_capacity)
    if nonatomic_replies:
        base = replace(base, bounds=replace(base.bounds, nonatomic_replies=True))
    rounds = dict(base.rounds) | clocks
    config = replace(base, rounds=tuple(sorted(rounds.items())))
    if variant is not None:
        config = replace(config, variant=variant)
    config.validate()
    return FLEModel(config)


def _prefix_explained(episode: Episode, events: list[Event], t0: float, t1: float,
                      start: float, journal: list, m: FLEModel, cut: float,
                      max_states: int, own_copies: frozenset[int] = frozenset(),
                      unobserved: frozenset[int] = frozenset()) -> bool:
    """Does the model match every event logged before ``cut`` (2 ms before a stale reply's
    receipt, for the millisecond stamps)? None of them can be an effect of that receipt,
    so a failure there is a different unexplained event, which the stale reply must not
    hide: only then is the episode put down to the known modelling limit. At INFO the own
    copies are not matched here: a server's own copy can be logged after the cut while
    another server's receipt of that broadcast is logged before it."""
    streams, _ = observed_streams(episode, events, t0, min(t1, cut - 0.002), journal, start,
                                  own_copies)
    streams = {k: v for k, v in keep_returns(m, streams).items() if k[1] != OWN}
    broken = link_breaks(episode, events, t0, min(t1, cut - 0.002), start)
    search = TraceSearch(episode, None, m, streams, broken, races=True,
                         own_copies=own_copies, unobserved=unobserved)
    search.cut_short = own_copies
    for reduced in (True, False):
        if search.run(max_states, reduced=reduced)[0] is not None:
            return True
    return False


def validate(episode: Episode, leader: int | None, events: list[Event], t0: float, t1: float,
             journal: list, max_states: int = 150_000,
             own_copies: frozenset[int] = frozenset(),
             unobserved: frozenset[int] = frozenset(),
             variant: Any = None, cut_short: frozenset[int] = frozenset(),
             nonatomic_replies: bool = False, time_window: float | None = None,
             reduced_states: int | None = None) -> Validation:
    """Search the episode's model for a behaviour matching the observed streams; an
    explanation is replayed step by step before it is reported. ``own_copies``: servers
    logged at INFO, whose broadcasts (DEBUG "Sending Notification" lines) are observed as
    their receipts of their own copies (``observed_streams``); ``unobserved``: servers
    without a log, taking part with no step observed; ``cut_short``: servers (at INFO)
    whose process ended during the episode, so that their broadcasts are not matched
    (the own copy of the last one may never have been logged); ``variant``: a
    historic rule set (``model.variants``) instead of 3.8's; ``nonatomic_replies``: the
    model produces stale WorkerReceiver replies itself (``Bounds.nonatomic_replies``), so
    none is put down to the known modelling limit."""
    t1, start = window_end(t1, journal), window_start(t0, journal)
    own_before: dict[int, list[int]] = {}
    streams, skipped = observed_streams(episode, events, t0, t1, journal, start, own_copies,
                                        own_before)
    total = sum(len(v) for v in streams.values())
    clocks = start_clocks(episode, events, t0, t1, start)
    broken = link_breaks(episode, events, t0, t1, start)
    # role give-ups draw on the same budget as election timeouts in the model
    timeouts = sum(1 for v in streams.values() for o in v if o.kind in ("timeout", "looking"))
    max_round = 1 + max([o.data[1][3] for v in streams.values() for o in v if o.kind == "recv"]
                        + [c + 1 for c in clocks.values()] + [1])
    try:
        m = episode_model(episode, clocks, max(max_round, 2), timeouts + 1,
                          sum(broken.values()), wire_capacity(streams), variant,
                          nonatomic_replies)
    except InputError as exc:
        return Validation(False, total, 0, 0, str(exc), None, "outside the model's bounds",
                          skipped)
    streams = keep_returns(m, streams)
    total = sum(len(v) for v in streams.values())
    # first the reduced searches (fast; a failure proves nothing), then the complete one;
    # each first with every receipt's logged state as the model's, then with the racy
    # state read allowed (``state_read_race``: only when needed, so that it is counted).
    # The complete racy search runs only when the complete plain one proved that no plain
    # path exists (it is larger still); its exhausted queue proves that no path exists.
    states, exhausted, path = 0, False, None
    best: tuple[int, Any] = (0, None)
    searches = {}
    for races in (False, True):
        searches[races] = TraceSearch(episode, leader, m, streams, broken, races,
                                      own_copies, unobserved)
        searches[races].own_before, searches[races].cut_short = own_before, cut_short
        if time_window is not None:
            searches[races].guided(time_window)
    for reduced, races in ((True, False), (True, True), (False, False), (False, True)):
        search = searches[races]
        budget = reduced_states or max_states if reduced else max_states
        path, best2, states2, exhausted = search.run(budget, reduced=reduced)
        states += states2
        best = best2 if best[1] is None or best2[0] > best[0] else best
        if path is not None or (not reduced and not exhausted):
            break  # explained, or out of budget (the racy search is larger still)
    exhausted = exhausted and not reduced
    if path is not None:
        search.replay(path)
        return Validation(True, total, total, states, skipped=skipped, steps=len(path) - 1,
                          clocks=clocks, races=search.races, model=m,
                          witness=[(label, st) for label, st, _pos in path[1:]])
    st, pos = best[1]
    pending = [streams[k][pos[search.slot[k]]] for k in search.keys
               if pos[search.slot[k]] < len(streams[k])]
    reason = "no matching model step" if exhausted else "state budget exhausted"
    # with non-atomic replies the model itself produces stale replies: no known limit
    stale = {} if nonatomic_replies else stale_replies(streams)
    heads = [(k, pos[search.slot[k]]) for k in search.keys
             if (k, pos[search.slot[k]]) in stale]
    if heads and _prefix_explained(episode, events, t0, t1, start, journal, m,
                                   receipt_time(episode, events, t0, t1, start, *heads[0]),
                                   max_states, own_copies, unobserved):
        # the search stopped at a stale reply, and everything logged before it is
        # explained: the known modelling limit (inconclusive), named first; the other
        # pending events are listed, not dropped
        k, i = heads[0]
        others = [o for o in pending if o is not streams[k][i]]
        reason = (f"known modelling limit: stale WorkerReceiver reply; search "
                  f"{'exhausted' if exhausted else 'budget spent'}")
        first = f"{streams[k][i].text()} [{stale[(k, i)]}]" + (
            "; also pending: " + "; or ".join(o.text() for o in others) if others else "")
        return Validation(False, total, best[0], states, first, m.describe(st), reason,
                          skipped, clocks=clocks)
    if exhausted and episode.crashed is not None and not episode.leader_crash_fits():
        # the model starts every survivor LOOKING, the real ones were still following
        reason = (f"model start differs: crashed leader {episode.crashed} and the up "
                  "servers synced to it are no quorum (leader-crash does not fit), so "
                  "survivors start LOOKING, not following")
    if not pending:
        first = f"all events matched, but no stable ensemble under leader {leader} was reached"
    else:
        first = "; or ".join(o.text() for o in pending)
    return Validation(False, total, best[0], states, first, m.describe(st), reason, skipped,
                      clocks=clocks)
