"""The configuration of one FLE model: cluster, initial persistent state, bounds, faults.

Everything a run depends on is here, so that the same ``ModelConfig`` always gives the
same state space (design.md, "Deterministic results"). ``validate()`` rejects impossible
values with one line (``InputError``) before any state is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from zkcheck.errors import InputError
from zkcheck.model.variants import Variant

SCENARIOS = ("startup", "leader-crash", "established")

ZXID_COUNTER_LIMIT = 1 << 8
"""A zxid is stored as ``epoch * ZXID_COUNTER_LIMIT + counter``: one small int that compares
like ZooKeeper's signed 64-bit ``(epoch << 32) | counter`` (lexicographically). Small limits
keep vote words (``zkcheck.model.state.pack_vote``) within 32 bits in practice."""

MAX_SID = 62
"""Sids, rounds and epochs occupy 6 bits (value + 1) in a vote word."""
MAX_EPOCH = 60
MAX_ROUND = 60


@dataclass(frozen=True)
class ServerInit:
    """Persistent state of one server at the start (§2.1)."""

    current_epoch: int = 0
    accepted_epoch: int = 0
    last_zxid: tuple[int, int] = (0, 0)  # (epoch, counter)

    def zxid(self) -> int:
        epoch, counter = self.last_zxid
        return epoch * ZXID_COUNTER_LIMIT + counter


def zxid_pair(zxid: int) -> tuple[int, int]:
    """(epoch, counter) of an encoded zxid; the observer's minimum sentinel stays -1."""
    if zxid < 0:
        return (-1, -1)
    return divmod(zxid, ZXID_COUNTER_LIMIT)


def zxid_text(zxid: int) -> str:
    if zxid < 0:
        return "min"
    epoch, counter = zxid_pair(zxid)
    return f"{epoch}:{counter}"


LEADER_CRASH_DEFAULT = ServerInit(current_epoch=1, accepted_epoch=1, last_zxid=(0, 0))


@dataclass(frozen=True)
class Bounds:
    """Bounds that keep the state space finite (fle-semantics.md §10, "Bounds").

    * ``max_round``: StartRound is enabled only while logicalclock < max_round; a server whose
      clock reached it stays LOOKING ("round bound exhausted"). Round jumps only go to rounds
      other servers reached, so no clock exceeds it.
    * ``timeouts``: total number of nondeterministic timeouts in a run: election timeouts with
      re-broadcast (§5.3) and a leader or follower giving up its role before the protocol
      forces it to (§7 "any timeout ... -> LOOKING"). Role endings forced by a dead or
      departed peer are free.
    * ``wire_capacity``: messages in flight per ordered pair of servers (§4.5).
    * ``client_writes``: transactions an established leader may log in broadcast (§7, last
      bullet), so that zxids diverge.
    * ``recv_capacity``: notifications that may wait in one LOOKING server's recvqueue
      (0 = unbounded, ZooKeeper's LinkedBlockingQueue). When it is full a delivery to that
      server waits on the wire (back-pressure) until the election loop dequeues. Needed
      only when a variant sends notifications forever (the ZOOKEEPER-1419 vote cycle makes
      the queues, hence the space, grow without end); it removes runs with longer queues,
      so a violation found is real and "holds" covers only runs within the capacity.
    * ``free_timeouts``: the election poll timeout (§5.3, re-broadcast) does not use the
      ``timeouts`` budget: it fires whenever its guard holds, forever, as ZooKeeper's
      does. A re-broadcast only re-queues the current proposal, so the space stays finite
      (with ``recv_capacity`` when peers are LOOKING) but gets cycles, which liveness then
      judges under fairness instead of stopping at a spent budget (a joiner that keeps
      timing out without ever joining, ZOOKEEPER-1732, is a fair cycle, not a deadlock).
      Role give-ups still use the budget.
    * ``fair_timeouts``: initLimit/syncLimit and poll timeouts fire, free, once nothing
      else can move (``zkcheck.model.expiry``), a learner keeps trying to connect to a
      leader that is still electing (``zab.leader_may_come``), and a run stopped by the
      round bound counts as a liveness violation unless it took a fault: liveness judged
      with timeouts fair, so a stuck run is not a pass. Changes the state space of the
      whole run, safety included.
    * ``optional_timeouts``: liveness, like safety, treats those timeouts as optional.
      By default (False) liveness is judged with them fair on a companion exploration
      (``FLEModel.liveness_companion``) while safety keeps this configuration's space;
      True restores the old judgement, in which a leader may wait forever for an
      ACKEPOCH that cannot count (docs/safety-evidence.md).
    * ``nonatomic_replies``: a WorkerReceiver reply is queued by a step of its own
      (``reply A->B``) after the delivery that triggered it; the vote is read at the
      delivery, logicalclock and the state at the reply (§5.1). Reaches the replies that
      mix two moments of the replier (an old vote with its round under a new state, a
      new round with the old proposal, a reply queued after a later broadcast). Off by
      default: it costs states (docs/semantics.md §5.1 gives the figures).
    """

    max_round: int = 2
    timeouts: int = 0
    wire_capacity: int = 1
    client_writes: int = 0
    recv_capacity: int = 0
    free_timeouts: bool = False
    fair_timeouts: bool = False
    optional_timeouts: bool = False
    nonatomic_replies: bool = False


@dataclass(frozen=True)
class Faults:
    """Fault budgets for a whole run (§4.4, §4.5). ``reconnects``: a live election
    connection is replaced by a new one (``reconnect A-B``), as in QuorumCnxManager's
    handshake race at startup; used by trace validation for the "Connection broken" lines
    a real log shows (default 0: no such action)."""

    crashes: int = 0
    restarts: int = 0
    link_failures: int = 0
    reconnects: int = 0


@dataclass(frozen=True)
class ModelConfig:
    """A cluster and everything the FLE model needs to build its state space.

    ``servers`` are all sids (voters and observers), ``observers`` the non-voting ones
    (§5.6). ``initial`` maps a sid to its persistent state at the start (missing sids get
    ``ServerInit()``). ``late`` servers are down at the start and may boot once (a "Boot"
    action, not counted as a restart). ``rounds`` maps a server that is up at the start to
    its logicalclock there. For a member of the ensemble of the ``established``/
    ``leader-crash`` scenarios it is the election round it decided in (its logicalclock and
    its published vote's round; default 1): members of one ensemble that decided in
    different rounds are reachable (a learner slow to connect keeps its round while the
    leader is re-elected) and are what ZOOKEEPER-1732's joiners stumble over. For a
    server that starts LOOKING (any up server under ``startup``, a non-member otherwise) it
    is the clock its process kept from earlier elections (default 0, a fresh process): its
    first StartRound enters round R + 1, as a real server does after losing its leader or
    quorum. Late starters boot as fresh processes (logicalclock 0) and take no round.
    ``scenario`` selects the initial state:
    ``startup`` (every up server LOOKING, logicalclock 0) or ``leader-crash`` (see
    ``zkcheck.model.scenarios``). ``leader`` names the established leader of the
    ``leader-crash``/``established`` ensemble (default None: the up voter with the greatest
    (currentEpoch, lastZxid, sid)); a real leader that crashed before logging anything can
    have a smaller lastZxid on disk than a follower that synced to it.
    ``missing_accepted_epoch`` are servers whose acceptedEpoch file is missing at the
    start (an upgrade from 3.3, or a lost file): one that is up loaded it before the loss
    and keeps its acceptedEpoch in memory; its next start (boot or restart) takes the
    epoch of its last logged zxid instead (``zkcheck.model.faults.start_process``,
    ZOOKEEPER-1387).
    """

    servers: tuple[int, ...] = (1, 2, 3)
    observers: frozenset[int] = frozenset()
    initial: tuple[tuple[int, ServerInit], ...] = ()
    late: frozenset[int] = frozenset()
    rounds: tuple[tuple[int, int], ...] = ()
    scenario: str = "startup"
    bounds: Bounds = field(default_factory=Bounds)
    faults: Faults = field(default_factory=Faults)
    variant: Variant = field(default_factory=Variant)
    leader: int | None = None
    missing_accepted_epoch: frozenset[int] = frozenset()

    @classmethod
    def make(
        cls,
        servers: int | Iterable[int] = 3,
        *,
        observers: Iterable[int] = (),
        initial: Mapping[int, ServerInit] | None = None,
        late: Iterable[int] = (),
        rounds: Mapping[int, int] | None = None,
        scenario: str = "startup",
        bounds: Bounds | None = None,
        faults: Faults | None = None,
        variant: Variant | None = None,
        leader: int | None = None,
        missing_accepted_epoch: Iterable[int] = (),
        **bound_or_fault: int,
    ) -> ModelConfig:
        """Convenience constructor: ``servers=3`` means sids 1..3; keyword bounds and fault
        budgets (``max_round=3, crashes=1``) override the defaults. Validates."""
        sids = tuple(range(1, servers + 1)) if isinstance(servers, int) else tuple(servers)
        b = bounds or Bounds()
        f = faults or Faults()
        bound_names = set(Bounds.__dataclass_fields__)
        fault_names = set(Faults.__dataclass_fields__)
        for name, value in bound_or_fault.items():
            if name in bound_names:
                b = replace(b, **{name: value})
            elif name in fault_names:
                f = replace(f, **{name: value})
            else:
                raise InputError(f"unknown configuration field {name!r}")
        config = cls(
            servers=sids,
            observers=frozenset(observers),
            initial=tuple(sorted((initial or {}).items())),
            late=frozenset(late),
            rounds=tuple(sorted((rounds or {}).items())),
            scenario=scenario,
            bounds=b,
            faults=f,
            variant=variant or Variant(),
            leader=leader,
            missing_accepted_epoch=frozenset(missing_accepted_epoch),
        )
        config.validate()
        return config

    # ------------------------------------------------------------------ derived views

    @property
    def voters(self) -> tuple[int, ...]:
        return tuple(s for s in self.servers if s not in self.observers)

    def init_of(self, sid: int) -> ServerInit:
        """Persistent state of ``sid`` at the start: as given, else the scenario's default
        (all zero for startup; epoch 1 established, no transaction, for leader-crash)."""
        default = (LEADER_CRASH_DEFAULT if self.scenario in ("leader-crash", "established")
                   else ServerInit())
        return dict(self.initial).get(sid, default)

    # ------------------------------------------------------------------ validation

    def validate(self) -> None:
        """Raise ``InputError`` (one line) on the first impossible value."""
        if not self.servers:
            raise InputError("the cluster needs at least one server")
        seen: set[int] = set()
        for sid in self.servers:
            if not isinstance(sid, int) or isinstance(sid, bool) or not 0 <= sid <= MAX_SID:
                raise InputError(f"server id {sid!r} must be an integer in 0..{MAX_SID}")
            if sid in seen:
                raise InputError(f"duplicate server id {sid}")
            seen.add(sid)
        for what, sids in (("observer", self.observers), ("late starter", self.late),
                           ("initial state of server", (s for s, _ in self.initial)),
                           ("round of server", (s for s, _ in self.rounds)),
                           ("server with a missing acceptedEpoch file",
                            self.missing_accepted_epoch)):
            for sid in sorted(sids):
                if sid not in seen:
                    raise InputError(f"{what} {sid} is not one of the servers "
                                     f"{', '.join(map(str, self.servers))}")
        if not self.voters:
            raise InputError("the cluster needs at least one voter (all servers are observers)")
        for sid, rnd in self.rounds:
            if not isinstance(rnd, int) or not 1 <= rnd <= min(MAX_ROUND,
                                                               self.bounds.max_round):
                raise InputError(f"round of server {sid} must be in 1..max-round "
                                 f"({self.bounds.max_round}), got {rnd!r}")
        for sid, _rnd in self.rounds:
            if sid in self.late:
                raise InputError(f"server {sid} is a late starter: it boots with logicalclock "
                                 "0 and takes no round")
        sids_with_init = [s for s, _ in self.initial]
        if len(set(sids_with_init)) != len(sids_with_init):
            raise InputError("initial state given twice for one server")
        for sid, init in self.initial:
            self._validate_init(sid, init)
        if self.scenario not in SCENARIOS:
            raise InputError(f"unknown scenario {self.scenario!r} "
                             f"(known: {', '.join(SCENARIOS)})")
        for name in Bounds.__dataclass_fields__:
            value = getattr(self.bounds, name)
            if not isinstance(value, int) or value < 0:
                raise InputError(f"bound {name.replace('_', '-')} must be an integer >= 0, "
                                 f"got {value!r}")
        if not 1 <= self.bounds.max_round <= MAX_ROUND:
            raise InputError(f"bound max-round must be in 1..{MAX_ROUND} (round 1 is the first "
                             f"election), got {self.bounds.max_round}")
        if self.bounds.client_writes >= ZXID_COUNTER_LIMIT:
            raise InputError(f"bound client-writes must be < {ZXID_COUNTER_LIMIT}")
        if self.bounds.wire_capacity < 1:
            raise InputError("bound wire-capacity must be >= 1")
        for name in Faults.__dataclass_fields__:
            value = getattr(self.faults, name)
            if not isinstance(value, int) or value < 0:
                raise InputError(f"fault budget {name.replace('_', '-')} must be an integer "
                                 f">= 0, got {value!r}")
        if self.leader is not None:
            if self.scenario not in ("leader-crash", "established"):
                raise InputError(f"a leader can only be given for the leader-crash and "
                                 f"established scenarios, not {self.scenario}")
            if self.leader not in seen or self.leader in self.observers \
                    or self.leader in self.late:
                raise InputError(f"leader {self.leader!r} must be a voter that is up at the "
                                 "start")
        if not isinstance(self.variant, Variant):
            raise InputError("variant must be a zkcheck.model.variants.Variant")

    @staticmethod
    def _validate_init(sid: int, init: ServerInit) -> None:
        ce, ae = init.current_epoch, init.accepted_epoch
        ep, counter = init.last_zxid
        for name, value in (("currentEpoch", ce), ("acceptedEpoch", ae),
                            ("zxid epoch", ep), ("zxid counter", counter)):
            if not isinstance(value, int) or value < 0:
                raise InputError(f"server {sid}: {name} must be an integer >= 0, got {value!r}")
        if ae > MAX_EPOCH:
            raise InputError(f"server {sid}: epochs are limited to {MAX_EPOCH} in the model")
        if ae < ce:
            raise InputError(f"server {sid}: acceptedEpoch {ae} < currentEpoch {ce} "
                             "(ZooKeeper refuses to start)")
        if ep > ce:
            raise InputError(f"server {sid}: lastZxid epoch {ep} > currentEpoch {ce} "
                             "(a zxid of an epoch the server never entered)")
        if counter >= ZXID_COUNTER_LIMIT:
            raise InputError(f"server {sid}: zxid counter {counter} too large")
