"""An FLE state as typed JSON: numbers and objects, no prose (the prose view sits beside it).

Votes are ``{"leader", "zxid": {"epoch", "counter"}, "round", "peer_epoch"}``, a
notification adds its sender's ``state``; servers are keyed by sid. The packed layout is
read only through ``fle_decode``.
"""

from __future__ import annotations

from typing import Any

from zkcheck.model import state as L
from zkcheck.model.config import zxid_pair
from zkcheck.render import fle_decode as D


def _zxid(z: int) -> dict[str, int] | None:
    if z < 0:
        return None  # no zxid: the minimum an observer or a fresh election object votes for
    epoch, counter = zxid_pair(z)
    return {"epoch": epoch, "counter": counter}


def _vote(v: Any) -> dict[str, Any] | None:
    if v is None:
        return None
    leader, zxid, rnd, pe = v
    return {"leader": leader, "zxid": _zxid(zxid), "round": rnd, "peer_epoch": pe}


def _msg(m: Any) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"state": L.STATE_NAMES[m[0]], **(_vote(m[1:]) or {})}


def _sids(mask: int, sids: tuple[int, ...]) -> list[int]:
    return [sid for k, sid in enumerate(sids) if mask >> k & 1]


def _server(s: D.Server, k: int, sids: tuple[int, ...], late: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"phase": L.PHASE_NAMES[s.phase], "current_epoch": s.ce,
                             "accepted_epoch": s.ae, "last_zxid": _zxid(s.zxid)}
    if not s.up:
        entry["late"] = bool(late >> k & 1)
        return entry
    entry.update({
        "state": L.STATE_NAMES[s.state], "logicalclock": s.clock,
        "proposal": None if s.proposal is None else {
            "leader": s.proposal[0], "zxid": _zxid(s.proposal[1]),
            "peer_epoch": s.proposal[2]},
        "current_vote": _vote(s.vote),
        "recvqueue": [{"from": sids[j], **(_msg(m) or {})} for j, m in s.queue],
        "recvset": {str(sids[j]): _msg(m) for j, m in sorted(s.recv.items())},
        "outofelection": {str(sids[j]): _msg(m) for j, m in sorted(s.ooe.items())},
        "result": _vote(s.result),
        "decided": None if s.dec is None else {
            "by": L.DEC_NAMES[s.dec[0]], "support": _sids(s.dec[1], sids),
            "clock_before": s.dec[2]},
    })
    learner, leader = s.learner_zab, s.leader_zab
    if learner is not None:
        entry["zab"] = {"role": "learner", "phase": L.Z_NAMES[learner[0]],
                        "minus1": bool(learner[1])}
    elif leader is not None:
        phase, epoch, mask, conn = leader
        entry["zab"] = {"role": "leader", "phase": L.L_NAMES[phase], "epoch": epoch,
                        "quorum_so_far": _sids(mask, sids), "learners": _sids(conn, sids)}
    return entry


def state_json(state: tuple, sids: tuple[int, ...]) -> dict[str, Any]:
    """The typed JSON object of one FLE state."""
    n = len(sids)
    w = D.world(state, n)
    return {
        "servers": {str(sids[k]): _server(s, k, sids, w.late)
                    for k, s in enumerate(w.servers)},
        "channels": [
            {"from": sids[i], "to": sids[j], "outbox": _msg(c.outbox),
             "wire": [_msg(m) for m in c.wire], "last": _msg(c.last)}
            for (i, j), c in sorted(w.chans.items())
            if c.outbox is not None or c.wire or c.last is not None],
        "links_up": [[sids[i], sids[j]] for i in range(n) for j in range(i + 1, n)
                     if w.links & L.pair_bit(i, j, n)],
        "budget_left": dict(zip(("crashes", "restarts", "link_failures", "timeouts",
                                 "client_writes", "reconnects"), w.budget, strict=True)),
        "established": [{"epoch": h[L.H_EPOCH], "leader": h[L.H_LEADER],
                         "acked_by": _sids(h[L.H_ACKED], sids)} for h in w.hist],
    }
