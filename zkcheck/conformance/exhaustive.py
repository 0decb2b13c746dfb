"""The exact leader set of one election episode, by exhaustive search of its model.

``EpisodeModel`` wraps the episode's ``FLEModel`` (the configuration of the walks) as an
explorer ``Model`` whose runs stop where the outcome is decided, so that breadth-first
search enumerates every outcome without a depth bound. It restricts the FLE model only as
the harness restricts the real ensemble (and as ``random_walks`` does):

* the episode's ``any`` boots happen at any time (``boot S``); no other boot or restart;
* by default (``joins=False``, what ``predict`` uses) joiners never boot and a state whose
  history holds an establishment not in the initial history is terminal, its leader the
  outcome (``first_established``): the harness reads the leader before it starts a joiner;
* with ``joins=True`` (the walks' full semantics) the next joiner boots in a stable state
  with every ``any`` boot done, and nothing else may happen there; a stable state after
  the last join is terminal, its leader the outcome. Forcing the boot at the first stable
  state loses no outcome of the harness's looser "boot some time after stability was
  seen": a boot touches only the booted server and disables nothing, so in any run it can
  be moved back to the stable state before it (the states in between stay non-terminal:
  the booted server is not in a role yet). With the timeouts of the walks this space is
  far too large (a give-up after the join reopens a 3-server election).

One witness property per server ("the outcome is S"); witnesses never stop the search, so
a search that hit no bound has found every reachable outcome.

Partial-order reduction (on by default, 3-4x fewer states, the same sets -- measured and
tested): the FLE model's quiet steps (``zkcheck.model.independence``) change no history,
no phase between "down", "role" and the rest, no Zab field, so they are invisible to both
terminal rules and to the witnesses; a quiet step of k is enabled only while k is inside
``lookForLeader``, so no state before it on any path is stable (no forced boot, no stable
outcome), and a terminal state reached without it is reached with it prepended, with the
same history and outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zkcheck.explorer.model import Property, witness
from zkcheck.explorer.result import WITNESS_FOUND, Bounds
from zkcheck.explorer.search import Search
from zkcheck.model.fle import FLEModel
from zkcheck.model.state import F_PHASE, P_DOWN, T_HIST, T_SERVERS

if TYPE_CHECKING:  # predict imports this module
    from zkcheck.conformance.predict import Episode


class EpisodeModel:
    """The episode's FLE model, cut where the outcome is decided (module docstring)."""

    def __init__(self, episode: Episode, model: FLEModel, joins: bool = False) -> None:
        from zkcheck.conformance.predict import first_established, stable_leader

        self.inner = model
        self.name = f"{model.name}-episode"
        # states are the FLE model's own: its (fast, canonical) encoding
        self.encode: Callable[[tuple], bytes] = model.encode
        self.sids = model.sids
        self._initial = model.initial_states()[0]
        self._before = self._initial[T_HIST]
        self._first = first_established
        self._stable = stable_leader
        allowed = {f"boot {s}" for s in episode.boots_any}
        self._blocked = frozenset(
            label for sid in model.sids for label in (f"boot {sid}", f"restart {sid}")
            if label not in allowed)
        self._any = tuple(model.index[s] for s in sorted(episode.boots_any))
        self._joins = tuple((model.index[s], f"boot {s}", f"restart {s}")
                            for s in episode.boots_join) if joins else ()
        self._props: list[Property] | None = None

    # ------------------------------------------------------------------ outcome
    def outcome(self, st: tuple) -> int | None:
        """The leader of a terminal state, None for a state whose episode goes on."""
        if not self._joins:
            if st[T_HIST] == self._before:
                return None
            return self._first(st, self._before)
        servers = st[T_SERVERS]
        if any(servers[k][F_PHASE] == P_DOWN for k, _, _ in self._joins):
            return None
        return self._stable(self.inner, st)

    def _next_join(self, st: tuple) -> tuple[str, str] | None:
        """Labels of the joiner to boot now: the state is stable, every ``any`` boot is
        done and some joiner is still down; else None."""
        servers = st[T_SERVERS]
        pending = next(((b, r) for k, b, r in self._joins if servers[k][F_PHASE] == P_DOWN),
                       None)
        if pending is None or any(servers[k][F_PHASE] == P_DOWN for k in self._any):
            return None
        return pending if self._stable(self.inner, st) is not None else None

    # ------------------------------------------------------------------ Model protocol
    def initial_states(self) -> Sequence[tuple]:
        return [self._initial]

    def actions(self, state: tuple) -> list[tuple[str, tuple]]:
        if self.outcome(state) is not None:
            return []
        acts = self.inner.actions(state)
        if self._joins:
            join = self._next_join(state)
            forced = [a for a in acts if a[0] in join] if join is not None else []
            if forced:  # as the walks: if the joiner cannot start, the run goes on
                return forced
        blocked = self._blocked
        return [a for a in acts if a[0] not in blocked]

    def properties(self) -> Sequence[Property]:
        if self._props is None:
            self._props = [self._leader_is(sid) for sid in self.sids]
        return self._props

    def _leader_is(self, sid: int) -> Property:
        outcome = self.outcome
        return witness(f"Leader{sid}", lambda st: outcome(st) == sid,
                       f"the episode can end with {sid} as the established leader")

    # ------------------------------------------------------------------ reduction
    def ample_for(self, property_names: Sequence[str]) -> Callable | None:
        """The FLE model's quiet-step ample sets (invisible here, see the module)."""
        if not set(property_names) <= {f"Leader{s}" for s in self.sids}:
            return None
        return self.inner.ample_for(["LeaderEstablished"])

    def por_measure(self, state: tuple) -> int:
        return self.inner.por_measure(state)

    def por_absorbs(self, ample_label: str, other: str) -> bool:
        return self.inner.por_absorbs(ample_label, other)


@dataclass
class Exhaustive:
    """Outcome of the exhaustive search of one episode."""

    leaders: set[int] = field(default_factory=set)
    complete: bool = False
    states: int = 0
    seconds: float = 0.0
    stopped_by: str = ""  # the bound that stopped an incomplete search, e.g. "states 150000"


def exhaustive_leaders(episode: Episode, model: FLEModel, max_states: int = 150_000,
                       max_seconds: float = 15.0, por: bool = True,
                       joins: bool = False) -> Exhaustive:
    """Every leader the episode's model can end with, if the search completes within the
    budget; else the leaders found so far (each a real model path) and the bound hit."""
    return search_leaders(EpisodeModel(episode, model, joins), max_states, max_seconds, por)


def search_leaders(wrapped: EpisodeModel, max_states: int, max_seconds: float,
                   por: bool) -> Exhaustive:
    """Breadth-first search of an episode model for its outcomes (one witness each)."""
    t = time.perf_counter()
    search = Search(wrapped, search="bfs", por=por,
                    bounds=Bounds(max_states=max_states, max_seconds=max_seconds))
    result = search.run()
    leaders = {int(name.removeprefix("Leader")) for name, v in result.verdicts.items()
               if v.status == WITNESS_FOUND}
    out = Exhaustive(leaders, not result.bounds_hit, result.stats.distinct,
                     time.perf_counter() - t)
    if result.bounds_hit:
        hit = result.bounds_hit[0]
        out.stopped_by = hit.bound + ("" if hit.limit is None else f" {hit.limit}")
    return out
