"""Properties of the FLE model (fle-semantics.md §8.2, §8.3).

Safety invariants are predicates on one state; where a property is about the past
(establishments, epoch values written, how a decision was taken) the model keeps exactly
that history in the state (``hist``, ``F_HWM``, ``F_DEC``; see ``zkcheck.model.state``).

Deliberately *not* invariants (§8.1, they fail on correct ZooKeeper): "at most one server
LEADING" (globally or per round), "a LEADING server still has a quorum voting for it",
"logicalclock never decreases". ``TwoLeadingSameRound`` is a witness instead: the §8.1
situation must be reachable, and it is not a violation.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING

from zkcheck.errors import InputError
from zkcheck.explorer.model import Property, invariant, witness
from zkcheck.invariants.fle_explain import fle_explainers
from zkcheck.invariants.fle_liveness import LIVENESS_NAMES, liveness_properties
from zkcheck.invariants.fle_recomputed import (
    decision_supported_recomputed,
    elected_is_most_up_to_date,
    established_by_quorum,
    newleader_ack_durable,
)
from zkcheck.model.config import ModelConfig
from zkcheck.model.state import (
    D_LOOKING,
    F_AE,
    F_CE,
    F_DEC,
    F_HWM,
    F_PHASE,
    F_RESULT,
    F_STATE,
    F_VOTE,
    F_ZAB,
    H_CARRIED,
    H_EPOCH,
    H_LEADER,
    H_SUMMARY,
    L_SYNC,
    LEADING,
    P_DECIDED,
    P_DOWN,
    ZR_LEADER,
    vote_leader,
    vote_round,
)
from zkcheck.model.votes import is_strict_total_order

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel


def leadership(state: tuple) -> bool:
    """Leadership (§8.2): at most one leader establishes any epoch. An establishment is the
    moment a quorum (including the leader) acknowledged the leader's new epoch and it set
    currentEpoch (§7 L3); the model appends (epoch, leader) to the history then. This is
    the property Zab relies on for one history per epoch; FLE alone does not give it."""
    hist: tuple = state[5]
    if len(hist) < 2:
        return True
    for a, b in zip(hist, hist[1:], strict=False):
        if a[H_EPOCH] == b[H_EPOCH] and a[H_LEADER] != b[H_LEADER]:
            return False
    return True


def epoch_monotonic(state: tuple) -> bool:
    """EpochMonotonic (§8.3 item 2): on every running server acceptedEpoch >= currentEpoch
    (ZooKeeper refuses to start otherwise), and on every server neither ever decreases --
    each equals the largest value ever written to it (kept as a high-water mark next to it,
    across crashes; a missing acceptedEpoch file, an upgrade or a lost file, has no value
    until one is written). A decrease would let a server acknowledge an epoch twice and
    break Leadership, or vote with an older epoch than it acknowledged (ZOOKEEPER-1387)."""
    servers: tuple = state[0]  # typed: compiled, a tuple is iterated without an iterator
    s: tuple
    for s in servers:
        hwm: tuple = s[F_HWM]
        hce: int = hwm[0]
        hae: int = hwm[1]
        ce: int = s[F_CE]
        ae: int = s[F_AE]
        if hce != ce or hae >= 0 and hae != ae:
            return False
        if ae < ce and s[F_PHASE] != P_DOWN:
            return False
    return True


def _decision_supported(m: FLEModel, state: tuple) -> bool:
    servers: tuple = state[0]
    s: tuple
    for k, s in enumerate(servers):
        dec: tuple | None = s[F_DEC]
        if dec is None:
            continue
        kind: int = dec[0]
        mask: int = dec[1]
        clock_before: int = dec[2]
        if not m.quorum[mask]:
            return False
        result: int = s[F_RESULT]
        if kind != D_LOOKING and vote_leader(result) == m.sids[k] and \
                vote_round(result) != clock_before:
            return False
    return True


def _established_up_to_date(state: tuple) -> bool:
    hist: tuple = state[5]
    h: tuple
    for h in hist:
        summary: tuple = h[H_SUMMARY]
        carried: tuple = h[H_CARRIED]
        a: tuple
        for a in carried:
            if (a[1], a[2]) > summary:
                return False
    return True


def leader_established(state: tuple) -> bool:
    """Witness LeaderEstablished: some running leader has established its epoch (a quorum
    acknowledged it, §7 L3) -- the election and discovery can complete at all."""
    servers: tuple = state[0]
    s: tuple
    for s in servers:
        z: tuple | None = s[F_ZAB]
        if z is not None and z[0] == ZR_LEADER and z[1] >= L_SYNC:
            return True
    return False


def two_leading_same_round(state: tuple) -> bool:
    """Witness TwoLeadingSameRound (§8.1): two servers are LEADING, both decided in the same
    election round. Reachable without faults in ZooKeeper; Zab (Leadership) resolves it. The
    round is the decided result's until Publish, then the published vote's (a scenario's
    running leader has published without a recorded result)."""
    seen = 0  # bit (round + 1) per LEADING server's round; rounds are -1..62
    servers: tuple = state[0]
    s: tuple
    for s in servers:
        st: int = s[F_STATE]
        if st == LEADING and s[F_PHASE] != P_DOWN:
            word: int = s[F_RESULT] if s[F_PHASE] == P_DECIDED else s[F_VOTE]
            bit = 1 << (vote_round(word) + 1)
            if seen & bit:
                return True
            seen |= bit
    return False


def vote_values(config: ModelConfig, model: FLEModel | None = None) -> list[tuple[int, int, int]]:
    """The vote values (leader, zxid, peerEpoch) in play: every voter as leader, combined with
    every initial zxid and every epoch from 0 to one more than the largest initial
    acceptedEpoch (a superset of what a run with one new epoch can show)."""
    from zkcheck.model.fle import FLEModel

    m = model or FLEModel(config)
    from zkcheck.model.scenarios import persistent_init

    inits = persistent_init(m)
    zxids = sorted({i.zxid() for i in inits})
    epochs = range(0, max(i.accepted_epoch for i in inits) + 2)
    if config.variant.vote_order_zxid_sid:
        epochs = range(1)  # a 3.3 vote has no epoch: votes differing only there are one vote
    return [(sid, z, e) for sid, z, e in product(config.voters, zxids, epochs)]


def check_vote_order(config: ModelConfig | FLEModel) -> str | None:
    """Static VoteOrderIsStrict check (§8.3 item 3), run before exploring: ``better`` (with
    the configuration's variant and weights) must be a strict total order on the vote values
    in play. Returns None, or one line describing the counterexample (ZOOKEEPER-1419)."""
    m = _model(config)
    return is_strict_total_order(m.better, vote_values(m.config, m), m.weight)


def _model(config: ModelConfig | FLEModel) -> FLEModel:
    from zkcheck.model.fle import FLEModel

    return config if isinstance(config, FLEModel) else FLEModel(config)


PROPERTY_NAMES = ("Leadership", "EpochMonotonic", "DecisionSupported",
                  "EstablishedLeaderUpToDate", "EstablishedByQuorum",
                  "ElectedIsMostUpToDate", "NewLeaderAckDurable", "VoteOrderIsStrict",
                  "LeaderEstablished", "TwoLeadingSameRound") + LIVENESS_NAMES


def fle_properties(config: ModelConfig | FLEModel) -> list[Property]:
    """All properties of the FLE model for a configuration (or a built model)."""
    m = _model(config)
    order_problem = check_vote_order(m)

    recomputed = decision_supported_recomputed(m)

    def decision_supported(state: tuple) -> bool:
        return _decision_supported(m, state) and recomputed(state)

    most_up_to_date = elected_is_most_up_to_date(m)

    def vote_order(_state: tuple) -> bool:
        return order_problem is None

    properties = [
        invariant("Leadership", leadership, _doc(leadership)),
        invariant("EpochMonotonic", epoch_monotonic, _doc(epoch_monotonic)),
        invariant(
            "DecisionSupported", decision_supported,
            "DecisionSupported (§8.3 item 4): a server that left LOOKING through the quorum "
            "test had a quorum of identical current-round votes in recvset (catches the "
            "pre-975 'heard from everyone' exit); one that decided through Step A/B had a "
            "quorum of matching FOLLOWING/LEADING votes and, if it decided to lead, a "
            "confirmation from its own current round (catches ZOOKEEPER-1514). Checked on "
            "the evidence recorded at decision time, for as long as the server keeps the "
            "decision, and again from primary state: a server in the finalize wait holds a "
            "quorum of equal current-round votes in recvset, and every recorded support set "
            "is a quorum of the configuration's voters (counted without the model's "
            "tables)."),
        invariant(
            "EstablishedLeaderUpToDate", _established_up_to_date,
            "EstablishedLeaderUpToDate (§8.2, §7 L3): when a leader establishes its epoch, "
            "no ACKEPOCH it counted carried a newer (currentEpoch, lastZxid) than the "
            "leader's currentEpoch and logged lastZxid (unchanged since it started leading; "
            "the log, not the in-memory zxid that ZOOKEEPER-790 raised before the NEWLEADER "
            "quorum) -- otherwise the new epoch "
            "could drop transactions a quorum member had. Compared with what each ACKEPOCH "
            "carried when the leader read it (recorded in the leader's state then, as "
            "Leader.waitForEpochAck sees it), not with the members' state at establishment: "
            "a member counted early may have given up and moved on since. FLE's vote order "
            "aims for this; Zab's ACKEPOCH check enforces it."),
        invariant("EstablishedByQuorum", established_by_quorum(m),
                  _doc(established_by_quorum).split("\n\n")[0]),
        invariant("ElectedIsMostUpToDate", most_up_to_date,
                  _doc(elected_is_most_up_to_date).split("\n\n")[0]),
        invariant("NewLeaderAckDurable", newleader_ack_durable(m),
                  _doc(newleader_ack_durable).split("\n\n")[0]),
        invariant(
            "VoteOrderIsStrict", vote_order,
            "VoteOrderIsStrict (§8.3 item 3): the vote order is irreflexive, asymmetric, "
            "transitive and total on the vote values in play (a static check of the "
            "configuration, reported on the initial state"
            + (f"; here: {order_problem}" if order_problem else "") + ")."),
        witness("LeaderEstablished", leader_established, _doc(leader_established)),
        witness("TwoLeadingSameRound", two_leading_same_round,
                _doc(two_leading_same_round)),
        *liveness_properties(m),
    ]
    explainers = fle_explainers(m, order_problem)
    return [replace(p, explain=explainers[p.name]) if p.name in explainers else p
            for p in properties]


def _doc(function: Callable) -> str:
    """The docstring of a predicate, the text of its property's description. A module
    compiled with mypyc (``zkcheck._native``) keeps no docstrings, so they are then read
    from the source of the predicate's module, where they are the same text."""
    if function.__doc__:
        return function.__doc__
    module = getattr(function, "__module__", None) or __name__
    if module not in _SOURCE_DOCS:
        package, _, leaf = module.rpartition(".")  # not __file__: wrong when compiled
        source = Path(importlib.import_module(package).__path__[0]) / f"{leaf}.py"
        tree = ast.parse(source.read_text(encoding="utf-8"))
        _SOURCE_DOCS[module] = {node.name: ast.get_docstring(node, clean=False) or ""
                                for node in tree.body if isinstance(node, ast.FunctionDef)}
    return _SOURCE_DOCS[module].get(function.__name__, "")


_SOURCE_DOCS: dict[str, dict[str, str]] = {}


def select_properties(properties: Sequence[Property], names: Iterable[str]) -> list[Property]:
    """The properties with the given names, in the order given; unknown names are an
    ``InputError`` listing the known ones."""
    by_name = {p.name: p for p in properties}
    chosen = []
    for name in names:
        if name not in by_name:
            raise InputError(f"unknown property {name!r} (known: {', '.join(by_name)})")
        chosen.append(by_name[name])
    return chosen
