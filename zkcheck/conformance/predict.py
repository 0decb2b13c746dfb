"""Which servers can the model establish as leader in one election episode?

An *episode* starts when every running server is LOOKING (a fresh start, or the leader
was killed) and its inputs are the persistent states read back from the real servers. It
may contain boots: ``any`` boots (the harness did not wait for a leader, e.g. a
one-at-a-time start) and ``join`` boots (the harness waited until the ensemble was stable).

The outcome of an episode is its first established leader. The harness reads the real
leader (``EpisodeRun.leader``) when the ensemble is first stable, before it starts any
joiner, so joiners take no part in it (whether a joiner keeps the leader is checked
separately, against the real ensemble).

**Exact** when the exhaustive search of the episode's model (``exhaustive.py``: every run,
cut at the first establishment) completes within its budget: the predicted set is then
the model's set. Otherwise (simultaneous starts of 3 or more servers have millions of
states) the set is **bracketed** from both sides:

* **possible** -- leaders of model runs that were actually found (seeded random walks of
  the model, the witnesses the interrupted search found, and the witness produced by trace
  validation): each is a real model path;
* **excluded** -- a sound static bound of the model's Zab rule (fle-semantics.md §7 L3):
  the first leader L established in an episode without writes needs a quorum containing L
  whose members' (currentEpoch, lastZxid) are not more recent than L's, else the ACKEPOCH
  check drops them. Everyone outside this bound is impossible in the model.

Servers in neither are reported as *unknown*. A real leader outside "possible" but inside
the bound makes the check inconclusive; outside the bound (or outside an exact set) it is
a disagreement.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from zkcheck.conformance.exhaustive import exhaustive_leaders
from zkcheck.conformance.paused import frozen_leader_leaders
from zkcheck.model.config import ModelConfig, ServerInit
from zkcheck.model.fle import FLEModel
from zkcheck.model.state import (
    F_PHASE,
    F_STATE,
    F_VOTE,
    F_ZAB,
    FOLLOWING,
    L_BROADCAST,
    LEADING,
    OBSERVING,
    P_DOWN,
    P_ROLE,
    T_HIST,
    T_LATE,
    T_SERVERS,
    Z_SERVING,
    ZR_LEADER,
    ZR_LEARNER,
    vote_leader,
)

ZXID_SHIFT = 32


def model_zxid(zxid: int) -> tuple[int, int]:
    """A real 64-bit zxid as the model's (epoch, counter) pair."""
    return (zxid >> ZXID_SHIFT, zxid & 0xFFFFFFFF)


@dataclass(frozen=True)
class Episode:
    """The inputs of one election episode, as read back from the real ensemble."""

    n: int
    inputs: tuple[tuple[int, int, int, int], ...]  # (sid, currentEpoch, acceptedEpoch, zxid)
    up: frozenset[int]
    boots_any: frozenset[int] = frozenset()
    boots_join: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()
    crashed: int | None = None  # the leader whose crash (or pause) opened the episode
    observers: frozenset[int] = frozenset()
    paused: frozenset[int] = frozenset()  # frozen (SIGSTOP) for the episode: as if down

    def leader_crash_fits(self) -> bool:
        """The model's leader-crash scenario, with the real crashed leader as its explicit
        leader, fits when that leader had established an epoch with a quorum of the up
        servers synced to it (the model rejects the state otherwise). The crashed leader
        need not be the best (currentEpoch, lastZxid, sid): a follower snapshots (e, 0)
        at NEWLEADER while a leader that never logged a transaction keeps an older zxid."""
        from zkcheck.errors import InputError

        if self.crashed is None or self.init_of(self.crashed)[0] < 1:
            return False
        try:
            FLEModel(self._crash_config()).initial_states()
        except InputError:
            return False
        return True

    def initial(self) -> dict[int, ServerInit]:
        return {sid: ServerInit(ce, max(ae, ce), model_zxid(z))
                for sid, ce, ae, z in self.inputs}

    def _crash_config(self, **bounds: int) -> ModelConfig:
        late = frozenset(range(1, self.n + 1)) - self.up - {self.crashed}
        if self.crashed in self.boots_join:  # the crashed leader comes back
            bounds.setdefault("restarts", 1)
        return ModelConfig.make(self.n, initial=self.initial(), late=late,
                                leader=self.crashed, scenario="leader-crash",
                                observers=self.observers, **bounds)

    @property
    def participants(self) -> frozenset[int]:
        return self.up | self.boots_any

    def init_of(self, sid: int) -> tuple[int, int, int]:
        for s, ce, ae, z in self.inputs:
            if s == sid:
                return ce, ae, z
        return 0, 0, 0

    def config(self, **bounds: int) -> ModelConfig:
        if self.leader_crash_fits():
            return self._crash_config(**bounds)
        late = frozenset(range(1, self.n + 1)) - self.up
        return ModelConfig.make(self.n, initial=self.initial(), late=late,
                                observers=self.observers, **bounds)

    def describe(self) -> str:
        parts = []
        for sid, ce, _ae, z in self.inputs:
            where = ("up" if sid in self.up else "boots" if sid in self.boots_any
                     else "joins" if sid in self.boots_join
                     else "paused" if sid in self.paused else "down")
            role = "observer " if sid in self.observers else ""
            parts.append(f"{sid}:{role}{where} e{ce} z{z:#x}")
        return ", ".join(parts)


def stable_leader(m: FLEModel, st: tuple) -> int | None:
    """The leader if every running server is in its role: one leader in broadcast, every
    other running server a serving learner of it (a follower, or an observer); else None."""
    servers = st[T_SERVERS]
    leader = None
    for k, s in enumerate(servers):
        if s[F_PHASE] == P_DOWN:
            continue
        if s[F_PHASE] != P_ROLE or s[F_ZAB] is None:
            return None
        if s[F_STATE] == LEADING:
            if leader is not None or s[F_ZAB][0] != ZR_LEADER or s[F_ZAB][1] != L_BROADCAST:
                return None
            leader = m.sids[k]
    if leader is None:
        return None
    for s in servers:
        if s[F_PHASE] == P_DOWN or s[F_STATE] == LEADING:
            continue
        z = s[F_ZAB]
        if s[F_STATE] not in (FOLLOWING, OBSERVING) or z[0] != ZR_LEARNER or z[1] != Z_SERVING \
                or vote_leader(s[F_VOTE]) != leader:
            return None
    return leader


def first_established(st: tuple, before: tuple = ()) -> int | None:
    """Leader of the first establishment not already in the history ``before``."""
    hist = [h for h in st[T_HIST] if h not in before]
    return min(hist)[1] if hist else None


def _booted(m: FLEModel, st: tuple, sid: int) -> bool:
    return not st[T_LATE] >> m.index[sid] & 1


@dataclass
class Walks:
    """Outcome of seeded random walks: leader -> number of walks that ended with it.

    ``first`` counts the first established leader of each walk (the episode's outcome, see
    the module docstring); it differs from ``leaders`` only in episodes with joiners, where
    a walk ends with the stable leader once all joined (``changed``: walks where that is
    not the first leader, i.e. the model let a join change the leader).
    """

    leaders: dict[int, int] = field(default_factory=dict)
    stuck: int = 0
    walks: int = 0
    first: dict[int, int] = field(default_factory=dict)
    changed: int = 0


def random_walks(episode: Episode, walks: int = 300, seed: int = 8, max_steps: int = 3000,
                 model: FLEModel | None = None) -> Walks:
    """Run seeded random walks of the episode's model; collect the leaders they reach.

    Without join boots a walk ends at the first establishment. With join boots it first
    runs to a stable ensemble (boots of joiners disabled), then boots the joiners one by
    one, each after stability, and ends when all joined: the leader is the stable one.
    """
    m = model or episode_model(episode)
    rng = random.Random(seed)
    out = Walks()
    pending_any = {f"boot {s}" for s in episode.boots_any}
    for _ in range(walks):
        out.walks += 1
        st = m.initial_states()[0]
        before = st[T_HIST]
        joins = list(episode.boots_join)
        result = first = None
        for _step in range(max_steps):
            if first is None:
                first = first_established(st, before)
            if not episode.boots_join:
                result = first
                if result is not None:
                    break
            else:
                leader = stable_leader(m, st)
                if leader is not None and not any(not _booted(m, st, s)
                                                  for s in episode.boots_any):
                    if not joins:
                        result = leader
                        break
                    acts = dict(m.actions(st))
                    nxt = acts.get(f"boot {joins[0]}", acts.get(f"restart {joins[0]}"))
                    if nxt is not None:
                        joins.pop(0)
                        st = nxt
                        continue
            acts = [(label, t) for label, t in m.actions(st)
                    if not label.startswith(("boot ", "restart ")) or label in pending_any]
            # a timer fires only when nothing else can happen (as in the real runs, where
            # the network is fast): a sound restriction that keeps the budget for stalls
            busy = [a for a in acts if not a[0].startswith(("timeout ", "giveup "))]
            acts = busy or acts
            if not acts:
                break
            st = acts[rng.randrange(len(acts))][1]
        if first is None:
            first = first_established(st, before)
        if first is not None:
            out.first[first] = out.first.get(first, 0) + 1
        if result is None:
            out.stuck += 1
        else:
            out.leaders[result] = out.leaders.get(result, 0) + 1
            out.changed += result != first
    return out


def static_bound(episode: Episode, majority: int | None = None) -> set[int]:
    """Servers the model's vote order and ACKEPOCH rule do not exclude as first leader.

    L is kept iff at least a quorum of participants (L itself included) have a vote key
    (currentEpoch, lastZxid, sid) not greater than L's. Sound for the 3.8 rules, by these
    steps (fle-semantics.md §5.2-§5.4, §7):

    1. Until the episode's first establishment no vote key changes: currentEpoch is set at
       establishment (L3) and NEWLEADER after it, lastZxid only by sync and writes after it.
    2. A proposal starts at the server's own key and only moves to a better vote (§5.4),
       so a server proposes L only if its key is not greater than L's.
    3. The first server to decide for L (leader or follower) did so on a quorum of LOOKING
       votes for L: Step A/B need a FOLLOWING/LEADING notification naming L, sent only by
       a server that already decided for L (the episode starts with empty channels, and
       the stale published votes of the leader-crash scenario name the crashed leader).
       That quorum proposed L, so by (2) all its members have keys not greater than L's.

    This is the ACKEPOCH bound (a quorum whose (currentEpoch, lastZxid) is not newer than
    L's) sharpened by the sid tie-break. Joiners are left out (the ensemble is stable when
    they boot). Observers (§5.6) are neither leaders nor quorum members: only the
    participating voters count, against a majority of all voters.
    """
    parts = sorted(episode.participants - episode.observers)
    need = majority or (episode.n - len(episode.observers)) // 2 + 1

    def key(sid: int) -> tuple[int, int, int]:
        ce, _ae, zxid = episode.init_of(sid)
        return ce, zxid, sid

    return {leader for leader in parts
            if sum(key(s) <= key(leader) for s in parts) >= need}


@dataclass
class Prediction:
    """The leader set of one episode: exact (``exact``: ``possible`` is the model's whole
    set, because the exhaustive search completed or -- ``bound_met`` -- because model runs
    found every server the sound static bound allows) or bracketed (``possible`` found,
    ``bound`` not excluded, ``unknown`` in between)."""

    possible: set[int]
    bound: set[int]
    walks: Walks
    exact: bool = False
    searched_states: int = 0
    search_seconds: float = 0.0
    stopped_by: str = ""  # the budget that stopped an incomplete search: "states 150000"
    bound_met: bool = False
    paused_check: str = ""  # a paused leader's direct model, compared (``paused.py``)

    @property
    def unknown(self) -> set[int]:
        return set() if self.exact else self.bound - self.possible

    def verdict(self, real: int) -> str:
        if real in self.possible:
            return "agree"
        if real in self.bound and not self.exact:
            return "inconclusive"
        return "DISAGREE"

    def text(self) -> str:
        s = "{" + ",".join(map(str, sorted(self.possible))) + "}"
        if self.exact:
            return s + " exact"
        if self.unknown:
            s += " ?{" + ",".join(map(str, sorted(self.unknown))) + "}"
        return s

    def search_text(self) -> str:
        """How the set was obtained, for reports."""
        return self._how() + (f"; {self.paused_check}" if self.paused_check else "")

    def _how(self) -> str:
        if self.bound_met:
            return "exact: model runs reach every server of the static bound"
        if self.exact:
            return f"exhaustive: {self.searched_states} states, {self.search_seconds:.1f} s"
        if self.stopped_by:
            return (f"bracketed: exhaustive search stopped by its {self.stopped_by} bound "
                    f"({self.searched_states} states, {self.search_seconds:.1f} s)")
        return "bracketed: no exhaustive search"


MODEL_BOUNDS = {"max_round": 3, "timeouts": 2}
"""The configuration of every episode model (walks and exhaustive search alike)."""


def episode_model(episode: Episode) -> FLEModel:
    return FLEModel(episode.config(**MODEL_BOUNDS))


def predict(episode: Episode, walks: int = 300, seed: int = 8, max_states: int = 150_000,
            max_seconds: float = 15.0, search: bool = True) -> Prediction:
    """The episode's leader set (``_predict``); for a paused leader, cross-checked against
    the paused leader's direct model (``paused.py``): when that search completes its set
    must lie within the static bound and equal an exact set, else this raises."""
    p = _predict(episode, walks, seed, max_states, max_seconds, search)
    if episode.crashed is None or episode.crashed not in episode.paused:
        return p
    fz = frozen_leader_leaders(episode, MODEL_BOUNDS["max_round"])
    _must_lie_within(fz.leaders, p.bound, "the static bound (paused-leader model)", episode)
    if not fz.complete:
        p.paused_check = (f"paused-leader model: {_set(fz.leaders)} found, search stopped by "
                          f"its {fz.stopped_by} bound")
        return p
    if p.exact and fz.leaders != p.possible:
        raise RuntimeError(f"the paused-leader model's set {_set(fz.leaders)} differs from "
                           f"the leader-crash episode's {_set(p.possible)} "
                           f"({episode.describe()})")
    p.paused_check = (f"paused-leader model: {_set(fz.leaders)} exhaustive, {fz.states} "
                      "states")
    return p


def _set(sids: set[int]) -> str:
    return "{" + ",".join(map(str, sorted(sids))) + "}"


def _predict(episode: Episode, walks: int, seed: int, max_states: int, max_seconds: float,
             search: bool) -> Prediction:
    """The episode's leader set. Exact when the walks reach every server of the sound
    static bound (the model's set lies between them), else when the exhaustive search
    completes within ``max_states``/``max_seconds``; otherwise the bracket (walks and the
    search's witnesses against the bound). A model run outside the bound or outside a
    complete search's set is a bug in one of them, not a verdict: it raises."""
    m = episode_model(episode)
    w = random_walks(episode, walks=walks, seed=seed, model=m)
    found = set(w.first)
    bound = static_bound(episode)
    _must_lie_within(found, bound, "the static bound", episode)
    # found <= the model's set <= bound: walks that found the whole bound settle it
    if found == bound:
        return Prediction(found, bound, w, exact=True, bound_met=True)
    if not search:
        return Prediction(found, bound, w)
    ex = exhaustive_leaders(episode, m, max_states=max_states, max_seconds=max_seconds)
    if ex.complete:
        _must_lie_within(found, ex.leaders, "the complete exhaustive search's set", episode)
    possible = ex.leaders if ex.complete else found | ex.leaders
    _must_lie_within(possible, bound, "the static bound", episode)
    met = not ex.complete and possible == bound
    return Prediction(set(possible), bound, w, ex.complete or met, ex.states, ex.seconds,
                      "" if met else ex.stopped_by, bound_met=met)


def _must_lie_within(reached: set[int], limit: set[int], what: str, episode: Episode) -> None:
    """Leaders reached by model runs outside a sound limit mean one analysis is wrong."""
    if not reached <= limit:
        raise RuntimeError(f"model runs reach leaders {sorted(reached - limit)} outside "
                           f"{what} ({episode.describe()})")
