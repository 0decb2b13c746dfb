"""Why a trace breaks an FLE property, in terms of the trace (data, not rendering).

Each explainer takes a ``Trace`` of its property and returns an ``Explanation``: one or
two sentences naming the server, the step and the values that break the property, the
step and the servers a picture should mark, and the typed values behind the text. The
checks mirror the properties in ``fle.py`` and ``fle_recomputed.py``; an explainer that
cannot find the reason returns None (the verdict still stands on the predicate).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zkcheck.invariants.fle_liveness import established_leaders
from zkcheck.model.config import zxid_text
from zkcheck.model.state import (
    D_LOOKING,
    DEC_NAMES,
    F_AE,
    F_CE,
    F_CLOCK,
    F_DEC,
    F_HWM,
    F_OOE,
    F_PHASE,
    F_PROP,
    F_RESULT,
    F_STATE,
    F_ZAB,
    F_ZXID,
    H_ACKED,
    H_CARRIED,
    H_EPOCH,
    H_LEADER,
    H_SUMMARY,
    L_NAMES,
    LOOKING,
    P_DOWN,
    P_FINAL,
    P_ROLE,
    STATE_NAMES,
    T_LATE,
    Z_NAMES,
    ZR_LEADER,
    ZR_LEARNER,
    unpack_key,
    unpack_vote,
    vote_leader,
    vote_round,
)

if TYPE_CHECKING:
    from zkcheck.explorer.trace import Trace
    from zkcheck.model.fle import FLEModel

Explainer = Callable[["Trace"], dict[str, Any] | None]


def _sids(m: FLEModel, mask: int) -> list[int]:
    return [sid for k, sid in enumerate(m.sids) if mask >> k & 1]


def _set(sids: list[int]) -> str:
    return "{" + ", ".join(map(str, sids)) + "}"


def _quorum_need(m: FLEModel, what: str = "of them") -> str:
    """What a quorum takes, in words (majority: how many of how many voters)."""
    voters = sorted(m.config.voters)
    if getattr(m.verifier, "kind", "") == "majority":
        return (f"a quorum of the {len(voters)} voters {_set(voters)} needs "
                f"{len(voters) // 2 + 1} {what}")
    return f"that is not a quorum of the configuration ({m.verifier.kind} quorums)"


def _vote_text(word: int) -> str:
    st, leader, zxid, rnd, pe = unpack_vote(word)
    return f"(leader {leader}, zxid {zxid_text(zxid)}, round {rnd}, peerEpoch {pe})"


def _first_step(trace: Trace, test: Callable[[tuple], bool]) -> int:
    """The index of the first state of the trace satisfying ``test`` (last if none)."""
    for number, state in enumerate(trace.states):
        if test(state):
            return number
    return len(trace)


def _explanation(text: str, step: int, servers: list[int], **detail: Any) -> dict[str, Any]:
    return {"text": text, "step": step, "servers": servers, "detail": detail}


# ---------------------------------------------------------------------- safety


def leadership(m: FLEModel) -> Explainer:
    def explain(trace: Trace) -> dict[str, Any] | None:
        hist = trace.final[5]
        for a in hist:
            for b in hist:
                if a[H_EPOCH] == b[H_EPOCH] and a[H_LEADER] < b[H_LEADER]:
                    epoch = a[H_EPOCH]
                    at = {h[H_LEADER]: _first_step(trace, lambda s, h=h: h in s[5])
                          for h in (a, b)}
                    first, second = sorted((a, b), key=lambda h: at[h[H_LEADER]])
                    return _explanation(
                        f"{second[H_LEADER]} established epoch {epoch} at step "
                        f"{at[second[H_LEADER]]} (acknowledged by "
                        f"{_set(_sids(m, second[H_ACKED]))}), but {first[H_LEADER]} had "
                        f"already established epoch {epoch} at step {at[first[H_LEADER]]} "
                        f"(acknowledged by {_set(_sids(m, first[H_ACKED]))}): two leaders "
                        "of one epoch.", len(trace), [first[H_LEADER], second[H_LEADER]],
                        epoch=epoch, leaders=[first[H_LEADER], second[H_LEADER]])
        return None

    return explain


def epoch_monotonic(m: FLEModel) -> Explainer:
    def explain(trace: Trace) -> dict[str, Any] | None:
        states = trace.states
        for k, s in enumerate(trace.final[0]):
            hce, hae = s[F_HWM][:2]
            sid = m.sids[k]
            before = states[-2][0][k] if len(states) > 1 else s
            for name, now, high, old in (("currentEpoch", s[F_CE], hce, before[F_CE]),
                                         ("acceptedEpoch", s[F_AE], hae, before[F_AE])):
                if now != high and high >= 0:
                    return _explanation(
                        f"{sid}'s {name} is {now} after step {len(trace)} (it was {old}), "
                        f"below the {high} it held before: an epoch went back.",
                        len(trace), [sid], field=name, value=now, highest=high)
            if s[F_AE] < s[F_CE] and s[F_PHASE] != P_DOWN:
                return _explanation(
                    f"{sid}'s acceptedEpoch {s[F_AE]} is below its currentEpoch {s[F_CE]} "
                    "after this step (ZooKeeper refuses to start so).", len(trace), [sid],
                    accepted_epoch=s[F_AE], current_epoch=s[F_CE])
        return None

    return explain


def decision_supported(m: FLEModel) -> Explainer:
    from zkcheck.invariants.fle_recomputed import config_quorum, recvset_support

    is_quorum = config_quorum(m)

    def explain(trace: Trace) -> dict[str, Any] | None:
        state = trace.final
        step = len(trace)
        for k, s in enumerate(state[0]):
            sid = m.sids[k]
            dec = s[F_DEC]
            if dec is not None:
                kind, mask, clock_before = dec
                result = s[F_RESULT]
                role = STATE_NAMES[s[F_STATE]]
                rnd = vote_round(result) if result is not None else s[F_CLOCK]
                support = _sids(m, mask)
                if not m.quorum[mask] or not is_quorum(mask):
                    how = ("identical current-round votes" if kind == D_LOOKING else
                           "matching FOLLOWING/LEADING answers")
                    return _explanation(
                        f"{sid} decided {role} in round {rnd} with support {_set(support)} "
                        f"({DEC_NAMES[kind]}): {_quorum_need(m, how)}.",
                        step, [sid], decided=role, round=rnd, support=support)
                if kind != D_LOOKING and vote_leader(result) == sid and rnd != clock_before:
                    back = (f" -- its round goes back from {clock_before} to {rnd}"
                            if rnd < clock_before else "")
                    return _explanation(
                        f"{sid} decided to lead through {DEC_NAMES[kind]} on answers from "
                        f"{_set(support)} of round {rnd} while its own round was "
                        f"{clock_before}{back}; leading needs a confirmation from its "
                        "current round (ZOOKEEPER-1514).", step, [sid], decided=role,
                        round=rnd, round_before=clock_before, support=support)
            if s[F_PHASE] == P_FINAL:
                support = recvset_support(m, s)
                if not is_quorum(support):
                    leader = unpack_key(s[F_PROP])[0]
                    return _explanation(
                        f"{sid} waits to finalize its vote for {leader} in round "
                        f"{s[F_CLOCK]}, but only {_set(_sids(m, support))} sent identical "
                        f"current-round votes: {_quorum_need(m, 'such votes')}.", step, [sid],
                        support=_sids(m, support), round=s[F_CLOCK])
        return None

    return explain


def established_up_to_date(m: FLEModel) -> Explainer:
    def explain(trace: Trace) -> dict[str, Any] | None:
        for h in trace.final[5]:
            newer = [a for a in h[H_CARRIED] if a[1:] > h[H_SUMMARY]]
            if newer:
                (lce, lz), (sid, ace, az) = h[H_SUMMARY], max(newer, key=lambda a: a[1:])
                leader = h[H_LEADER]
                step = _first_step(trace, lambda s, h=h: h in s[5])
                return _explanation(
                    f"{leader} established epoch {h[H_EPOCH]} at step {step} with "
                    f"(currentEpoch {lce}, lastZxid {zxid_text(lz)}), but it had counted "
                    f"the ACKEPOCH of {sid} (in its acknowledging quorum "
                    f"{_set(_sids(m, h[H_ACKED]))}), which carried the newer "
                    f"(currentEpoch {ace}, lastZxid {zxid_text(az)}): the new epoch can "
                    "lose its transactions.", step, [leader, sid], epoch=h[H_EPOCH],
                    ahead=[a[0] for a in newer])
        return None

    return explain


def established_by_quorum(m: FLEModel) -> Explainer:
    from zkcheck.invariants.fle_recomputed import config_quorum

    is_quorum = config_quorum(m)

    def explain(trace: Trace) -> dict[str, Any] | None:
        servers = trace.final[0]
        for h in trace.final[5]:
            leader, epoch, acked = h[H_LEADER], h[H_EPOCH], h[H_ACKED]
            step = _first_step(trace, lambda s, h=h: h in s[5])
            members = _sids(m, acked)
            if not (acked >> m.index[leader] & 1 and is_quorum(acked)):
                return _explanation(
                    f"{leader} established epoch {epoch} at step {step} acknowledged by "
                    f"{_set(members)} only: {_quorum_need(m, 'acknowledgements')}, the "
                    "leader's included (ZOOKEEPER-1191).", step, [leader], epoch=epoch,
                    acked_by=members)
            for k, s in enumerate(servers):
                if acked >> k & 1 and s[F_AE] < epoch:
                    return _explanation(
                        f"{m.sids[k]} is counted in the quorum that established epoch "
                        f"{epoch} for {leader} at step {step}, but its acceptedEpoch is "
                        f"{s[F_AE]}.", step, [leader, m.sids[k]], epoch=epoch)
        return None

    return explain


def elected_most_up_to_date(m: FLEModel) -> Explainer:
    from zkcheck.invariants.fle_recomputed import recvset_support

    zxid_only = m.variant.vote_order_zxid_sid

    def explain(trace: Trace) -> dict[str, Any] | None:
        servers = trace.final[0]
        for k, s in enumerate(servers):
            if s[F_PHASE] != P_FINAL:
                continue
            leader, zxid, pe = unpack_key(s[F_PROP])
            support = recvset_support(m, s)
            for j, t in enumerate(servers):
                if not support >> j & 1 or t[F_CLOCK] != s[F_CLOCK] or t[F_PROP] != s[F_PROP]:
                    continue
                own = (0, t[F_ZXID]) if zxid_only else (t[F_CE], t[F_ZXID])
                if own > ((0, zxid) if zxid_only else (pe, zxid)):
                    return _explanation(
                        f"{m.sids[k]}'s quorum {_set(_sids(m, support))} agrees in round "
                        f"{s[F_CLOCK]} on leader {leader} with (peerEpoch {pe}, zxid "
                        f"{zxid_text(zxid)}), but its member {m.sids[j]} has the newer "
                        f"(currentEpoch {t[F_CE]}, lastZxid {zxid_text(t[F_ZXID])}).",
                        len(trace), [m.sids[k], m.sids[j], leader], leader=leader)
        return None

    return explain


_VOTE = re.compile(r"\((-?\d+), (-?\d+), (-?\d+)\)")


def vote_order(problem: str | None) -> Explainer:
    """The static order check: its counterexample names the offending votes."""

    def explain(trace: Trace) -> dict[str, Any] | None:
        if problem is None:
            return None
        votes = [(int(a), int(b), int(c)) for a, b, c in _VOTE.findall(problem)]
        named = [f"(leader {v[0]}, zxid {zxid_text(v[1])}, peerEpoch {v[2]})" for v in votes]
        kind = problem.split(":", 1)[0]
        text = {
            "not asymmetric": "the votes {0} and {1} are each better than the other",
            "not irreflexive": "the vote {0} is better than itself",
            "not transitive": "{0} beats {1} and {1} beats {2}, but {0} does not beat {2}",
            "not total": "neither of the votes {0} and {1} is better than the other",
        }.get(kind, problem)
        return _explanation(
            "The vote order of this configuration is " + kind + ": "
            + text.format(*named) + " -- voters can swap proposals forever "
            "(ZOOKEEPER-1419).", 0, sorted({v[0] for v in votes}),
            votes=[{"leader": v[0], "zxid": zxid_text(v[1]), "peer_epoch": v[2]}
                   for v in votes])

    return explain


# ---------------------------------------------------------------------- liveness


def _loop(trace: Trace) -> tuple[int, list[tuple]]:
    start = trace.loop_start if trace.loop_start is not None else len(trace)
    return start, trace.states[start:]


def _roles(m: FLEModel, state: tuple) -> str:
    """Where every server is, in a few words (for a run that ends stuck)."""
    parts = []
    for k, s in enumerate(state[0]):
        if s[F_PHASE] == P_DOWN:
            parts.append(f"{m.sids[k]} down")
            continue
        z = s[F_ZAB]
        zab = ""
        if z is not None and z[0] == ZR_LEADER:
            zab = f", Zab {L_NAMES[z[1]]}"
        elif z is not None and z[0] == ZR_LEARNER:
            zab = f", Zab {Z_NAMES[z[1]]}"
        parts.append(f"{m.sids[k]} {STATE_NAMES[s[F_STATE]]} (round {s[F_CLOCK]}{zab})")
    return ", ".join(parts)


def eventually_elected(m: FLEModel) -> Explainer:
    def explain(trace: Trace) -> dict[str, Any] | None:
        start, loop = _loop(trace)
        if trace.loop_start is None:
            stuck = [m.sids[k] for k, s in enumerate(trace.final[0])
                     if s[F_PHASE] != P_DOWN and s[F_STATE] != LOOKING]
            return _explanation(
                f"The run stops at step {len(trace)} (no action is enabled) and no leader "
                f"has established an epoch with a quorum: {_roles(m, trace.final)}.",
                len(trace), stuck)
        swapping = []
        for k, sid in enumerate(m.sids):
            leaders = sorted({unpack_key(s[0][k][F_PROP])[0] for s in loop
                              if s[0][k][F_PHASE] != P_DOWN and s[0][k][F_PROP] is not None})
            if len(leaders) > 1:
                swapping.append((sid, leaders))
        what = "; ".join(f"{sid} keeps changing its proposal between "
                         + " and ".join(map(str, leaders)) for sid, leaders in swapping)
        return _explanation(
            f"Steps {start + 1}..{len(trace)} repeat forever and no leader ever establishes "
            "an epoch with a quorum" + (f": {what}." if what else "."), start,
            [sid for sid, _ in swapping], loop_start=start)

    return explain


def joiner_joins(m: FLEModel) -> Explainer:
    def explain(trace: Trace) -> dict[str, Any] | None:
        start, loop = _loop(trace)
        last = loop[0] if loop else trace.final
        for k in m.voter_idx:
            s = last[0][k]
            if s[F_PHASE] == P_ROLE or s[F_PHASE] == P_DOWN and not last[T_LATE] >> k & 1:
                continue
            sid = m.sids[k]
            answers = {m.sids[j]: w for j, w in enumerate(s[F_OOE]) if w is not None}
            seen = ", ".join(f"{j}: {STATE_NAMES[unpack_vote(w)[0]]} {_vote_text(w)}"
                             for j, w in sorted(answers.items()))
            rounds = sorted({vote_round(w) for w in answers.values()})
            why = (f"; the answers it holds ({seen}) differ in their round "
                   f"({', '.join(map(str, rounds))}), so no quorum of them is identical "
                   "(ZOOKEEPER-1732)" if len(rounds) > 1 else
                   f"; it holds the answers {seen}" if seen else
                   "; no FOLLOWING/LEADING answer has reached it")
            where = (f"steps {start + 1}..{len(trace)} repeat forever"
                     if trace.loop_start is not None else f"the run stops at step {start}")
            leaders = [m.sids[j] for j in established_leaders(m, last)]
            leader = (f"the established leader {leaders[0]}" if leaders else
                      "a leader (none is established with a quorum)")
            return _explanation(
                f"{sid} never joins {leader}: {where} while {sid} stays "
                f"{STATE_NAMES[s[F_STATE]]} in round {s[F_CLOCK]}{why}.",
                start, [sid], joiner=sid, rounds=rounds)
        return None

    return explain


def fle_explainers(m: FLEModel, order_problem: str | None) -> dict[str, Explainer]:
    """The explainer of each FLE property that has one, by property name."""
    return {
        "Leadership": leadership(m),
        "EpochMonotonic": epoch_monotonic(m),
        "DecisionSupported": decision_supported(m),
        "EstablishedLeaderUpToDate": established_up_to_date(m),
        "EstablishedByQuorum": established_by_quorum(m),
        "ElectedIsMostUpToDate": elected_most_up_to_date(m),
        "VoteOrderIsStrict": vote_order(order_problem),
        "EventuallyElected": eventually_elected(m),
        "JoinerEventuallyJoins": joiner_joins(m),
    }
