"""``FLEModel``: ZooKeeper 3.8 Fast Leader Election + connection layer + Zab discovery slice
as a finite transition system for the explorer (fle-semantics.md is the specification).

The model precomputes at construction everything that does not depend on the state
(index tables, quorum answers per bit mask, channel indices, label strings), so that
``actions()`` only reads tuples and builds the changed components of each successor.

Actions (one function each, in ``zkcheck.model.election``, ``.network``, ``.zab``,
``.faults``), in the order they are listed for a state -- the order is fixed, so the same
configuration always gives the same successors in the same order:

==================  =====================================  ==================
label               rule                                   module
==================  =====================================  ==================
``start S``         StartRound §5.2                        election
``process S``       Process §5.4 (round cases, Step A/B)   election
``drain S``         FinalizeDrain §5.4                     election
``decide S``        FinalizeDecide §5.4                    election
``timeout S``       Timeout + re-broadcast §5.3            election
``publish S``       publish the result §5.5, start role §6 election/zab
``followerinfo S``  FOLLOWERINFO + epoch proposal §7        zab
``leaderinfo S``    LEADERINFO -> ACKEPOCH (f3)            zab
``ackepoch S``      leader reads ACKEPOCH (L3)             zab
``setepoch S``      leader's setCurrentEpoch (L3; crashes) zab
``newleader S``     sync + NEWLEADER + ACK (f4, L4)        zab
``newleader-ack S`` leader counts the ACK (L4; crashes)    zab
``uptodate S``      UPTODATE, updateElectionVote (f4)      zab
``lost S``          learner's leader gone -> LOOKING §6     zab
``lost-quorum S``   leader lost its quorum -> LOOKING      zab
``giveup S``        role timeout -> LOOKING (budget)       zab
``write S``         leader logs a client transaction       zab
``log S``           learner logs the leader's txns         zab
``transmit A->B``   outbox -> wire §4.2                    network
``deliver A->B``    wire -> WorkerReceiver §4.3, §5.1      network
``build B->A``      WorkerReceiver reads clock, state §5.1 network
``reply B->A``      WorkerReceiver queues its reply §5.1   network
``connect A-B``     connection by the larger sid A §4.1    network
``linkdown A-B``    connection breaks §4.4 (budget)        network
``reconnect A-B``   connection replaced (budget)           network
``crash S``         process crash §4.4 (budget)            faults
``restart S``       restart after a crash (budget)         faults
``boot S``          first start of a late starter          faults
``expire S,..``     due timeouts once nothing else moves   expiry
==================  =====================================  ==================

Step granularity: one WorkerReceiver step per delivered message (``deliver``; two with
``Bounds.nonatomic_replies`` when it answers: ``deliver``, maybe ``build``, ``reply``), one
election-loop step per dequeued notification (``process``/``drain``) or decision; a
broadcast fills all outboxes (and the loopback) atomically; Transmit and Deliver are
separate so that the 1-slot overwrite and in-flight loss are both visible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import orjson

from zkcheck.explorer.model import Property
from zkcheck.model import election, expiry, faults, network, zab
from zkcheck.model.config import ZXID_COUNTER_LIMIT, ModelConfig, zxid_text
from zkcheck.model.fairness import fairness_class
from zkcheck.model.quorum import QuorumMaj
from zkcheck.model.scenarios import initial_state
from zkcheck.model.state import (
    B_TIMEOUT,
    F_CE,
    F_CLOCK,
    F_PHASE,
    F_QUEUE,
    F_ZXID,
    LEADER_SHIFT,
    P_DECIDED,
    P_FINAL,
    P_IDLE,
    P_ROLE,
    P_ROUND,
    describe_state,
    pack_key,
    pair_bit,
)
from zkcheck.model.votes import make_better


class FLEModel:
    """The FLE transition system for one ``ModelConfig`` (see the module docstring)."""

    def __init__(self, config: ModelConfig, verifier: Any = None) -> None:
        config.validate()
        self.config = config
        self.variant = config.variant
        self.name = "fle"
        sids = config.servers
        n = len(sids)
        self.sids: tuple[int, ...] = sids
        self.n = n
        self.index: dict[int, int] = {sid: k for k, sid in enumerate(sids)}
        self.voter: tuple[bool, ...] = tuple(sid not in config.observers for sid in sids)
        self.voter_idx: tuple[int, ...] = tuple(k for k in range(n) if self.voter[k])
        self.verifier = verifier if verifier is not None else QuorumMaj(config.voters)
        self.weight: Callable[[int], int] = self.verifier.weight
        self.better = make_better(self.weight, self.variant)
        self.exit_when_all_heard = self.variant.exit_when_all_heard  # read on the hot path
        voter_bits = sum(1 << k for k in self.voter_idx)

        def sid_mask(mask: int) -> int:
            return sum(1 << sids[k] for k in range(n) if mask >> k & 1)

        # quorum answers per index mask; only voters are ever put in (FLE and, since
        # ZOOKEEPER-2959, the Zab epoch sets)
        self.quorum: tuple[bool, ...] = tuple(
            bool(self.verifier.is_quorum_mask(sid_mask(mask & voter_bits)))
            for mask in range(1 << n))
        if self.variant.observers_in_epoch_quorum:
            self.zab_quorum = tuple(bool(self.verifier.is_quorum_mask(sid_mask(mask)))
                                    for mask in range(1 << n))
            self.counts_in_epoch = tuple(True for _ in range(n))
        else:
            self.zab_quorum = self.quorum
            self.counts_in_epoch = self.voter
        self.empty_votes: tuple = (None,) * n
        self.max_round = config.bounds.max_round
        self.wire_capacity = config.bounds.wire_capacity
        self.recv_capacity = config.bounds.recv_capacity
        self.free_timeouts = bool(config.bounds.free_timeouts)
        # a crash can fall between establishment and setCurrentEpoch, and between a
        # learner's NEWLEADER and the leader counting its ACK: two steps each (zab.py)
        self.split_epoch_steps = config.faults.crashes > 0
        self.fair_timeouts = bool(config.bounds.fair_timeouts)
        self.nonatomic_replies = bool(config.bounds.nonatomic_replies)
        self.zxid_base = ZXID_COUNTER_LIMIT
        self._observer_key = pack_key(-1, -1, -1)
        self.voter_by_leader1 = tuple(
            leader1 - 1 in self.index and self.voter[self.index[leader1 - 1]]
            for leader1 in range(64))
        self.self_leader_bits = tuple((sid + 1) << LEADER_SHIFT for sid in sids)

        # channel tables
        self.bcast_chans = tuple(tuple(k * n + j for j in self.voter_idx if j != k)
                                 for k in range(n))
        self.out_chans = tuple(tuple(k * n + j for j in range(n) if j != k) for k in range(n))
        self.in_chans = tuple(tuple(j * n + k for j in range(n) if j != k) for k in range(n))
        self.links_of = tuple(sum(pair_bit(k, j, n) for j in range(n) if j != k)
                              for k in range(n))
        self.pair_chans = tuple((i * n + j, pair_bit(i, j, n), f"transmit {sids[i]}->{sids[j]}")
                                for i in range(n) for j in range(n) if i != j)
        self.deliver_chans = tuple((i * n + j, i, j, f"deliver {sids[i]}->{sids[j]}")
                                   for i in range(n) for j in range(n) if i != j)
        pairs = []
        for i in range(n):
            for j in range(i + 1, n):
                a, b = (i, j) if sids[i] > sids[j] else (j, i)
                pairs.append((a, b, a * n + b, b * n + a, pair_bit(a, b, n)))
        self.connect_pairs = tuple(p + (f"connect {sids[p[0]]}-{sids[p[1]]}",) for p in pairs)
        self.all_links = sum(p[4] for p in pairs)
        self.linkdown_pairs = tuple(p + (f"linkdown {sids[p[0]]}-{sids[p[1]]}",)
                                    for p in pairs)
        self.reconnect_pairs = tuple(p + (f"reconnect {sids[p[0]]}-{sids[p[1]]}",)
                                     for p in pairs)

        def labels(word: str) -> tuple[str, ...]:
            return tuple(f"{word} {sid}" for sid in sids)

        self.lbl_start = labels("start")
        self.lbl_process = labels("process")
        self.lbl_drain = labels("drain")
        self.lbl_decide = labels("decide")
        self.lbl_timeout = labels("timeout")
        self.lbl_publish = labels("publish")
        self.lbl_finfo = labels("followerinfo")
        self.lbl_linfo = labels("leaderinfo")
        self.lbl_ackepoch = labels("ackepoch")
        self.lbl_newleader = labels("newleader")
        self.lbl_nlack = labels("newleader-ack")
        self.lbl_setepoch = labels("setepoch")
        self.lbl_uptodate = labels("uptodate")
        self.lbl_lost = labels("lost")
        self.lbl_lostquorum = labels("lost-quorum")
        self.lbl_giveup = labels("giveup")
        self.lbl_write = labels("write")
        self.lbl_log = labels("log")
        self.lbl_crash = labels("crash")
        self.lbl_restart = labels("restart")
        self.lbl_boot = labels("boot")
        self.lbl_build = tuple(f"build {sids[k]}->{sids[i]}" for k in range(n)
                               for i in range(n))
        self.lbl_reply = tuple(f"reply {sids[k]}->{sids[i]}" for k in range(n)
                               for i in range(n))

        gens = [network.gen_transmit, network.gen_deliver, network.gen_connect]
        if config.bounds.nonatomic_replies:
            gens.append(network.gen_reply)
        if config.faults.link_failures:
            gens.append(network.gen_link_down)
        if config.faults.reconnects:
            gens.append(network.gen_reconnect)
        if config.faults.crashes:
            gens.append(faults.gen_crash)
        if config.faults.restarts:
            gens.append(faults.gen_restart)
        if config.late:
            gens.append(faults.gen_boot)
        if config.bounds.fair_timeouts:
            gens.append(expiry.gen_expiry)  # last: it looks at every other enabled action
        self._pair_generators = tuple(gens)
        self.encode: Callable[[Any], bytes] = orjson.dumps
        """Canonical bytes of a state: JSON of its nested tuples of ints and None. States hold
        no lists, strings, bools or floats, so equal bytes mean equal states; orjson is a C
        function (the explorer maps it over a batch without a Python call per state) and
        about 20% faster than ``marshal`` on FLE states, where encoding is a third of the run
        time. An instance attribute, not a class-level ``staticmethod``: compiled with mypyc
        that would hand out the ``staticmethod`` wrapper, an extra call per state."""
        self._initial = initial_state(self)
        self.initial_budget: tuple = self._initial[3]
        self._properties: list[Property] | None = None
        self._companion: FLEModel | None = None
        self._group: list[tuple[int, ...]] | None = None
        self.por_deadlock_only = frozenset({"BoundStall"})  # see model/independence.py

    # ------------------------------------------------------------------ helpers for actions

    def init_key(self, s: tuple, k: int) -> int:
        """The initial vote of a round (§5.2) as a proposal key: (sid, lastZxid,
        currentEpoch) for a voter, the minimum vote for an observer (it never proposes
        itself)."""
        if self.voter[k]:
            return pack_key(self.sids[k], s[F_ZXID], s[F_CE])
        return self._observer_key

    def key_weight(self, key: int) -> int:
        """Weight of the leader of a proposal key."""
        return self.weight((key & 63) - 1)

    # ------------------------------------------------------------------ Model protocol

    def initial_states(self) -> Sequence[tuple]:
        return [self._initial]

    def actions(self, state: tuple) -> list[tuple[str, tuple]]:
        """Every enabled action as (label, successor), in a fixed order: per server (in
        configuration order) its election-loop or role actions, then the network actions per
        channel, then faults. Guards are evaluated here; the effect functions' docstrings
        state them."""
        out: list[tuple[str, tuple]] = []
        servers: tuple = state[0]
        timeouts: int = state[3][B_TIMEOUT]
        s: tuple
        for k, s in enumerate(servers):
            phase: int = s[F_PHASE]
            if phase == P_ROUND:
                if s[F_QUEUE]:
                    out.append((self.lbl_process[k], election.process(self, state, k)))
                elif timeouts or self.free_timeouts:
                    if election.have_delivered(self, state, k):
                        out.append((self.lbl_timeout[k], election.timeout(self, state, k)))
                    elif self.variant.have_delivered_all_empty_4605:
                        succ = network.connect_all(self, state, k)
                        if succ is not None:
                            out.append((self.lbl_timeout[k], succ))
            elif phase == P_FINAL:
                if s[F_QUEUE]:
                    out.append((self.lbl_drain[k], election.finalize_drain(self, state, k)))
                else:
                    out.append((self.lbl_decide[k], election.finalize_decide(self, state, k)))
            elif phase == P_ROLE:
                zab.role_actions(self, state, k, out)
            elif phase == P_IDLE:
                if s[F_CLOCK] < self.max_round:
                    out.append((self.lbl_start[k], election.start_round(self, state, k)))
            elif phase == P_DECIDED:
                out.append((self.lbl_publish[k], election.publish(self, state, k)))
        for gen in self._pair_generators:
            gen(self, state, out)
        return out


    def properties(self) -> Sequence[Property]:
        if self._properties is None:
            from zkcheck.invariants.fle import fle_properties

            self._properties = fle_properties(self)
        return self._properties

    def liveness_companion(self, property_names: Sequence[str]
                           ) -> tuple[FLEModel, list[str]] | None:
        """The model on which liveness is judged and the properties it judges there (the
        liveness ones among ``property_names``, plus the BoundStall witness, reported in
        their notes, which says whether a bound cut a run of that graph short); None if
        this model judges them itself. BoundStall's own verdict stays this model's.

        Safety may treat initLimit/syncLimit/poll timeouts as optional (budgeted), liveness
        may not: in ZooKeeper they always fire once progress stops. So unless the run
        already has fair timeouts (``Bounds.fair_timeouts``) or asked for the old
        judgement (``Bounds.optional_timeouts``), liveness is judged on this configuration
        with fair timeouts (``zkcheck.model.expiry``), explored separately, and the safety
        state space of this configuration stays what it was."""
        from zkcheck.invariants.fle_liveness import LIVENESS_GOALS

        bounds = self.config.bounds
        judged = [name for name in property_names if name in LIVENESS_GOALS]
        if bounds.fair_timeouts or bounds.optional_timeouts or not judged:
            return None
        if self._companion is None:
            fair = replace(bounds, fair_timeouts=True)
            self._companion = FLEModel(replace(self.config, bounds=fair), self.verifier)
        return self._companion, judged + ["BoundStall"]

    def ample_for(self, property_names: Sequence[str]) -> Callable | None:
        """Partial-order reduction: ample sets for these properties (None: not covered);
        the independence relation and its proof are in ``zkcheck.model.independence``."""
        from zkcheck.model.independence import ample_for

        return ample_for(self, property_names)

    def symmetry_group(self, kind: str = "observers") -> list[tuple[int, ...]]:
        """Server permutations: ``observers`` (the declared symmetry: observers among
        themselves) or ``servers`` (all of them -- not a symmetry of FLE, for checks)."""
        from zkcheck.model.symmetry import observer_group, server_group

        return observer_group(self) if kind == "observers" else server_group(self)

    def permute(self, state: tuple, perm: tuple[int, ...]) -> tuple:
        from zkcheck.model.symmetry import permute

        return permute(self, state, perm)

    def canonical(self, state: tuple) -> tuple:
        """Symmetry reduction: the orbit representative under permutations of observers."""
        from zkcheck.model.symmetry import canonical

        if self._group is None:
            self._group = self.symmetry_group()
        return canonical(self, state, self._group)

    def por_measure(self, state: tuple) -> int:
        """Total length of the receive queues: every quiet step shortens one."""
        return sum(len(s[F_QUEUE]) for s in state[0])

    def por_refusal(self, property_names: Sequence[str]) -> str | None:
        """Why ``ample_for`` declines (None: it does not)."""
        from zkcheck.model.independence import refusal

        return refusal(self, property_names)

    def por_absorbs(self, ample_label: str, other: str) -> bool:
        from zkcheck.model.independence import absorbs

        return absorbs(self, ample_label, other)

    @staticmethod
    def fairness(label: str) -> str | None:
        """Weak-fairness class of an action (``zkcheck.model.fairness``): the label, or
        None for faults and environment choices."""
        return fairness_class(label)

    def describe(self, state: tuple) -> dict[str, Any]:
        return describe_state(state, self.sids, zxid_text)

    # ------------------------------------------------------------------ simulation hooks
    # (zkcheck.model.sampling says what each one means for FLE)

    @staticmethod
    def actor(label: str) -> int:
        """The server that performs an action (per-server and PCT scheduling)."""
        from zkcheck.model.sampling import actor

        return actor(label)

    def action_kinds(self) -> list[str]:
        from zkcheck.model.sampling import action_kinds

        return action_kinds(self)

    def coverage_features(self, state: tuple) -> Any:
        from zkcheck.model.sampling import features

        return features(self, state)

    def swarm_knobs(self) -> list:
        from zkcheck.model.sampling import swarm_knobs

        return swarm_knobs(self)

    def with_knobs(self, values: dict[str, int]) -> FLEModel:
        from zkcheck.model.sampling import with_knobs

        return with_knobs(self, values)

    @property
    def summary(self) -> str:
        """One line for reports: cluster, scenario, variant, bounds and fault budgets."""
        c = self.config
        obs = f", observers {','.join(map(str, sorted(c.observers)))}" if c.observers else ""
        late = f", late {','.join(map(str, sorted(c.late)))}" if c.late else ""
        b, f = c.bounds, c.faults
        return (f"FLE (ZooKeeper {self.variant.name}), servers {','.join(map(str, c.servers))}"
                f"{obs}{late}, scenario {c.scenario}; bounds: max-round {b.max_round}, "
                f"timeouts {b.timeouts}, wire-capacity {b.wire_capacity}, client-writes "
                f"{b.client_writes}"
                + (f", recv-capacity {b.recv_capacity}" if b.recv_capacity else "")
                + (", free poll timeouts" if b.free_timeouts else "")
                + (", fair timeouts" if b.fair_timeouts else "")
                + (", optional timeouts" if b.optional_timeouts else "")
                + (", non-atomic replies" if b.nonatomic_replies else "")
                + f"; faults: crashes {f.crashes}, restarts {f.restarts}, "
                f"link-failures {f.link_failures}"
                + (f", reconnects {f.reconnects}" if f.reconnects else ""))
