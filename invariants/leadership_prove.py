"""``prove leadership`` as one call: BMC, then k-induction; text and JSON renderings.

Kept out of the command module so that the API (and the tests) get the same answers and
documents as the command line.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zkcheck.errors import InputError
from zkcheck.explorer import VIOLATED, Trace
from zkcheck.invariants.leadership_aux import AUX
from zkcheck.invariants.leadership_bmc import BmcResult, bmc
from zkcheck.invariants.leadership_induction import CTI, InductionResult, Snapshot, k_induction
from zkcheck.model.discovery_abstract import AbstractVariant, DiscoveryModel
from zkcheck.render.text import trace_view
from zkcheck.report import trace_to_dict

SCHEMA = "zkcheck.prove.leadership/1"
MAX_SERVERS = 9
ABSTRACTION = (
    "election over-approximated (any LOOKING server may decide to lead, or to follow any "
    "other server, at any time); Zab discovery exact as in fle-semantics.md section 7 "
    "(FOLLOWERINFO, epoch = max(acceptedEpoch)+1 over a quorum that contains the leader, "
    "LEADERINFO/ACKEPOCH with the -1 answer, establishment on a quorum of ACKEPOCH that "
    "contains the leader, NEWLEADER); any role may end at any time (timeout, crash, lost "
    "leader or quorum) keeping the persistent epochs; majority quorums")

PROVEN, HOLDS_WITHIN, VIOLATED_V, INDUCTION_FAILED = (
    "proven", "holds within bounds", "violated", "induction failed")


@dataclass
class LeadershipReport:
    n: int
    variant: AbstractVariant
    bmc: BmcResult
    induction: InductionResult | None

    @property
    def verdict(self) -> str:
        if not self.bmc.ok:
            return VIOLATED_V
        if self.induction is None:
            return HOLDS_WITHIN
        return PROVEN if self.induction.proven else INDUCTION_FAILED

    @property
    def ok(self) -> bool:
        return self.verdict in (PROVEN, HOLDS_WITHIN)


def prove_leadership(n: int, *, depth: int = 8, max_epoch: int = 2, bmc_only: bool = False,
                     variant: AbstractVariant | None = None, k: int = 1,
                     without: Sequence[str] = ()) -> LeadershipReport:
    """BMC to ``depth`` (decided epochs <= max_epoch), then (unless ``bmc_only`` or BMC
    found a counterexample) k-induction with the auxiliary invariants minus ``without``."""
    if not 1 <= n <= MAX_SERVERS:
        raise InputError(f"--servers must be in 1..{MAX_SERVERS}, got {n}")
    if depth < 0:
        raise InputError(f"--depth must be >= 0, got {depth}")
    if max_epoch < 1:
        raise InputError(f"--max-epoch must be >= 1, got {max_epoch}")
    if k < 1:
        raise InputError(f"--k must be >= 1, got {k}")
    names = {a.name for a in AUX}
    for name in without:
        if name not in names:
            raise InputError(f"unknown invariant {name!r} (known: {', '.join(sorted(names))})")
        if name == "Leadership":
            raise InputError("Leadership is the property being proven; it cannot be dropped")
    variant = variant or AbstractVariant()
    result = bmc(n, depth, max_epoch=max_epoch, variant=variant)
    induction = None
    if not bmc_only and result.ok:
        induction = k_induction(n, variant=variant, k=k,
                                invariants=[a for a in AUX if a.name not in without])
    return LeadershipReport(n, variant, result, induction)


class _CTIView:
    """Describes CTI snapshots (state + symbolic epoch + ghosts) for the trace reporter."""

    def __init__(self, n: int, epoch: int):
        self.model = DiscoveryModel(n, max_epoch=None)
        self.epoch = epoch

    def describe(self, snap: Snapshot) -> dict[str, Any]:
        view = self.model.describe(snap.state(self.epoch))
        view["E"] = self.epoch
        view["ghost: acknowledged E to"] = {
            sid: (snap.ack[k] + 1 if snap.ack[k] >= 0 else "-")
            for k, sid in enumerate(self.model.sids)}
        return view


def snapshot_lines(view: _CTIView, snap: Snapshot) -> list[str]:
    """One line per server (all fields), then the establishments of E."""
    d = view.describe(snap)
    ghost = d["ghost: acknowledged E to"]
    lines = []
    for sid, fields_ in d["servers"].items():
        text = ", ".join(f"{key} {value}" for key, value in fields_.items())
        lines.append(f"server {sid}: {text}, acknowledged E to {ghost[sid]}")
    lines.append("established E: " + (", ".join(d["established"]) or "nobody"))
    return lines


def cti_trace(n: int, cti: CTI) -> tuple[_CTIView, Trace]:
    steps = [s for _, s in cti.earlier] + [cti.pre]
    labels = [label for _, label in cti.earlier] + [cti.label]
    seq = tuple(zip(labels, steps[1:] + [cti.post], strict=True))
    return _CTIView(n, cti.epoch), Trace(steps[0], seq)


def _why(name: str) -> str:
    return next(a.why for a in AUX if a.name == name)


def render_text(rep: LeadershipReport) -> str:
    b = rep.bmc
    lines = [f"zkcheck prove leadership: {rep.n} servers, ZooKeeper {rep.variant.name} "
             "discovery rules",
             *textwrap.wrap(f"abstraction: {ABSTRACTION}", 96, subsequent_indent="  "),
             f"bounded model checking (Z3, unrolled to depth {b.depth}, decided epochs <= "
             f"{b.max_epoch}, {b.seconds:.1f} s):"]
    model = DiscoveryModel(rep.n, max_epoch=b.max_epoch, variant=rep.variant)
    for r in b.results.values():
        if r.status == VIOLATED and r.trace is not None:
            epoch = f" (epoch {r.epoch})" if r.epoch is not None else ""
            lines.append(f"  {r.name}: VIOLATED{epoch}, shortest counterexample of {r.depth} "
                         "steps:")
            lines += ["  " + x for x in trace_view(model, r.trace, r.name, VIOLATED)]
        else:
            lines.append(f"  {r.name}: holds within bounds (no counterexample of <= "
                         f"{r.depth} steps)")
    ind = rep.induction
    if ind is None and b.ok:
        lines.append("k-induction: skipped (--bmc-only)")
    elif ind is not None:
        lines.append(f"k-induction (k = {ind.k}, unbounded epochs, every epoch E, "
                     f"{ind.seconds:.1f} s):")
        if ind.proven:
            lines += textwrap.wrap(
                f"PROVEN: in every reachable state of the abstract model with {rep.n} "
                "servers, no two different leaders establish the same epoch; by refinement "
                "the same holds for the explicit FLE model (docs/prove-leadership.md)",
                96, initial_indent="  ", subsequent_indent="    ")
            lines += textwrap.wrap(
                f"inductive invariant ({len(ind.invariants)} conjuncts): "
                + ", ".join(ind.invariants), 96, initial_indent="  ",
                subsequent_indent="    ")
        elif ind.base_failure is not None:
            lines.append(f"  FAILED: {ind.base_failure} is false in some initial state")
        elif ind.cti is not None:
            cti = ind.cti
            lines += textwrap.wrap(
                f"FAILED: counterexample to induction: {cti.label} breaks {cti.broken} "
                f"({_why(cti.broken)}); the pre-state satisfies every invariant but need "
                "not be reachable: strengthen the invariants, or it is a real bug",
                96, initial_indent="  ", subsequent_indent="    ")
            view, trace = cti_trace(rep.n, cti)
            lines.append(f"  pre-state (E = {cti.epoch}, the symbolic epoch):")
            lines += ["    " + x for x in snapshot_lines(view, trace.initial)]
            lines += ["  " + x for x in trace_view(view, trace, cti.broken, VIOLATED)]
    code = 0 if rep.ok else 1
    lines.append(f"verdict: {rep.verdict.upper()} (exit {code})")
    return "\n".join(lines)


def to_json(rep: LeadershipReport) -> dict[str, Any]:
    b = rep.bmc
    model = DiscoveryModel(rep.n, max_epoch=b.max_epoch, variant=rep.variant)
    props = {}
    for r in b.results.values():
        props[r.name] = {"status": r.status, "depth": r.depth, "epoch": r.epoch,
                         "trace": trace_to_dict(model, r.trace) if r.trace else None}
    ind = rep.induction
    induction = None
    if ind is not None:
        cti = None
        if ind.cti is not None:
            view, trace = cti_trace(rep.n, ind.cti)
            cti = {"broken": ind.cti.broken, "why": _why(ind.cti.broken),
                   "action": ind.cti.label, "epoch": ind.cti.epoch,
                   "trace": trace_to_dict(view, trace)}  # type: ignore[arg-type]
        induction = {"k": ind.k, "proven": ind.proven, "seconds": round(ind.seconds, 3),
                     "invariants": [{"name": a.name, "why": a.why,
                                     "step_seconds": round(ind.step_seconds.get(a.name, 0), 3)}
                                    for a in AUX if a.name in ind.invariants],
                     "base_failure": ind.base_failure, "cti": cti}
    return {"schema": SCHEMA, "command": "prove leadership", "verdict": rep.verdict,
            "exit_code": 0 if rep.ok else 1, "servers": rep.n, "quorums": "majority",
            "variant": rep.variant.flags(), "abstraction": ABSTRACTION,
            "bmc": {"depth": b.depth, "max_epoch": b.max_epoch,
                    "seconds": round(b.seconds, 3), "properties": props},
            "induction": induction}
