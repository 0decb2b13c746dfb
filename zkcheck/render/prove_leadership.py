"""Text and JSON for ``zkcheck prove leadership`` (schema in docs/proofs.md)."""

from __future__ import annotations

import textwrap
from typing import Any

from zkcheck.explorer import VIOLATED, Trace
from zkcheck.invariants.leadership_aux import AUX
from zkcheck.invariants.leadership_induction import CTI, Snapshot
from zkcheck.invariants.leadership_param import INVARIANT_NAMES as PARAM_INVARIANTS
from zkcheck.invariants.leadership_prove import LeadershipReport
from zkcheck.model.discovery_abstract import DiscoveryModel
from zkcheck.render.text import trace_view
from zkcheck.report import trace_to_dict

ABSTRACTION = (
    "election over-approximated (any LOOKING server may decide to lead, or to follow any "
    "other server, at any time); Zab discovery exact as in fle-semantics.md section 7 "
    "(FOLLOWERINFO, epoch = max(acceptedEpoch)+1 over a quorum that contains the leader, "
    "LEADERINFO/ACKEPOCH with the -1 answer, establishment on a quorum of ACKEPOCH that "
    "contains the leader, NEWLEADER); any role may end at any time (timeout, crash, lost "
    "leader or quorum) keeping the persistent epochs; not modelled: message contents "
    "beyond epochs, zxids and logs (the ACKEPOCH zxid check allows both outcomes), sync, "
    "broadcast, observers, reconfiguration")
EVERY_N = (
    "every N: servers are an uninterpreted sort, quorums a predicate of which only "
    "'every two quorums intersect' is assumed; epochs only ordered; coarser than the finite "
    "model (decision at any time with any epoch above the leader's acceptedEpoch, the "
    "ACKEPOCH check and currentEpoch dropped), which it over-approximates step by step")


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


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, 96, initial_indent=indent, subsequent_indent=indent + "  ")


def _bmc_lines(rep: LeadershipReport) -> list[str]:
    b = rep.bmc
    if b is None:
        return []
    lines = [f"bounded model checking (Z3, unrolled to depth {b.depth}, decided epochs <= "
             f"{b.max_epoch}, {rep.quorums.name} quorums, {b.seconds:.1f} s):"]
    model = DiscoveryModel(rep.n, max_epoch=b.max_epoch, variant=rep.variant,
                           quorum=rep.quorums.table)
    for r in b.results.values():
        if r.status == VIOLATED and r.trace is not None:
            epoch = f" (epoch {r.epoch})" if r.epoch is not None else ""
            lines.append(f"  {r.name}: VIOLATED{epoch}, shortest counterexample of {r.depth} "
                         "steps:")
            lines += ["  " + x for x in trace_view(model, r.trace, r.name, VIOLATED)]
        else:
            lines.append(f"  {r.name}: holds within bounds (no counterexample of <= "
                         f"{r.depth} steps)")
    return lines


def _induction_lines(rep: LeadershipReport) -> list[str]:
    ind = rep.induction
    if ind is None:
        if rep.bmc is not None and rep.bmc.ok and rep.config is None:
            return ["k-induction: skipped (--bmc-only)"]
        return []
    lines = [f"k-induction (k = {ind.k}, {rep.n} servers, unbounded epochs, every epoch E, "
             f"{ind.seconds:.1f} s):"]
    if ind.proven:
        lines += _wrap(f"PROVEN: in every reachable state of the abstract model with {rep.n} "
                       "servers, no two different leaders establish the same epoch")
        lines += _wrap(f"inductive invariant ({len(ind.invariants)} conjuncts): "
                       + ", ".join(ind.invariants))
    elif ind.base_failure is not None:
        lines.append(f"  FAILED: {ind.base_failure} is false in some initial state")
    elif ind.cti is not None:
        cti = ind.cti
        lines += _wrap(f"FAILED: counterexample to induction: {cti.label} breaks {cti.broken} "
                       f"({_why(cti.broken)}); the pre-state satisfies every invariant but "
                       "need not be reachable: strengthen the invariants, or it is a real bug")
        view, trace = cti_trace(rep.n, cti)
        lines.append(f"  pre-state (E = {cti.epoch}, the symbolic epoch):")
        lines += ["    " + x for x in snapshot_lines(view, trace.initial)]
        lines += ["  " + x for x in trace_view(view, trace, cti.broken, VIOLATED)]
    else:
        lines.append("  not attempted (a sanity check failed)")
    return lines


def _param_lines(rep: LeadershipReport) -> list[str]:
    p = rep.param
    if p is None:
        if rep.induction is not None and rep.variant.flags():
            return ["every N: skipped (the parameterized model has the default rules only)"]
        return []
    lines = [f"every N (parameterized, EPR, {len(PARAM_INVARIANTS)} invariants, "
             f"{p.seconds:.1f} s):"]
    if p.proven:
        lines += _wrap("PROVEN: for every number of servers and every quorum system in which "
                       "every two quorums intersect, no two leaders establish the same epoch")
    elif p.base_failure:
        lines.append(f"  FAILED: {p.base_failure} is false in some initial state")
    elif p.step_failure:
        lines.append(f"  FAILED: {p.step_action} breaks {p.step_failure}")
    else:
        lines.append("  not attempted (a sanity check failed or Z3 gave no answer)")
    return lines


def render_text(rep: LeadershipReport) -> str:
    head = (f"zkcheck prove leadership: {rep.config}, {rep.n} voters" if rep.config else
            f"zkcheck prove leadership: {rep.n} servers, ZooKeeper {rep.variant.name} "
            "discovery rules")
    lines = [head, *_wrap(f"abstraction: {ABSTRACTION}", ""), *_wrap(EVERY_N, "  ")]
    if rep.intersection is not None:
        i = rep.intersection
        lines.append("quorums of the file: every two intersect: " + (
            "proven by Z3" if i.holds else
            f"VIOLATED: {sorted(i.quorum_a)} and {sorted(i.quorum_b)} are disjoint quorums"))
    lines += _bmc_lines(rep) + _induction_lines(rep) + _param_lines(rep)
    lines.append("sanity:")
    lines += [f"  {'ok' if c.ok else 'FAILED'}: {c.name}: {c.detail}" for c in rep.sanity]
    if rep.config and rep.verdict == "proven":
        lines += _wrap("so Leadership holds for this ensemble (its quorums intersect, and "
                       "the every-N proof covers every intersecting quorum system)", "")
    code = 0 if rep.ok else 1
    lines.append(f"verdict: {rep.verdict.upper()} (exit {code})")
    return "\n".join(lines)


def to_json(rep: LeadershipReport) -> dict[str, Any]:
    b = rep.bmc
    bmc = None
    if b is not None:
        model = DiscoveryModel(rep.n, max_epoch=b.max_epoch, variant=rep.variant,
                               quorum=rep.quorums.table)
        props = {r.name: {"status": r.status, "depth": r.depth, "epoch": r.epoch,
                          "trace": trace_to_dict(model, r.trace) if r.trace else None}
                 for r in b.results.values()}
        bmc = {"depth": b.depth, "max_epoch": b.max_epoch, "seconds": round(b.seconds, 3),
               "properties": props,
               "witness_length": len(b.witness) if b.witness is not None else None}
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
    p = rep.param
    param = None if p is None else {
        "proven": p.proven, "seconds": round(p.seconds, 3), "invariants": list(PARAM_INVARIANTS),
        "base_failure": p.base_failure, "step_failure": p.step_failure,
        "step_action": p.step_action, "unknown": p.unknown, "abstraction": EVERY_N}
    inter = rep.intersection
    from zkcheck.schema import envelope

    return envelope("prove leadership", 0 if rep.ok else 1, verdict=rep.verdict,
                    **{"servers": rep.n, "config": rep.config,
            "quorums": rep.quorums.name, "variant": rep.variant.flags(),
            "abstraction": ABSTRACTION, "bmc": bmc, "induction": induction, "every_n": param,
            "quorum_intersection": None if inter is None else inter.to_json(),
            "sanity": [{"check": c.name, "ok": c.ok, "detail": c.detail}
                       for c in rep.sanity]})
