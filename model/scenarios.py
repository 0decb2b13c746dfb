"""Initial states of the two triggers of an election (issue: ``--scenario``).

* ``startup``: every server that is up at the start is a freshly started process (LOOKING,
  logicalclock 0, about to call ``lookForLeader``) with its configured persistent state;
  late starters are down until their Boot action. Links between servers that are up are
  connected (see ``zkcheck.model.network``). ``ModelConfig.rounds`` gives an up server the
  logicalclock its process kept from earlier elections (default 0): a server that lost its
  leader or quorum starts its next election in the following round, not in round 1.
* ``leader-crash``: an established ensemble whose leader has just crashed. Built directly
  as a consistent state, not by running an election first:

  - the leader is the up voter with the greatest (currentEpoch, lastZxid, sid) -- the vote
    FLE would have elected among them -- or ``ModelConfig.leader`` when given; the
    established epoch e is its currentEpoch;
  - learners are the up servers with currentEpoch = acceptedEpoch = e and lastZxid not
    newer than the leader's (for an explicit leader: not newer than its lastZxid or
    (e, 0), whichever is greater -- Leader.lead sets the leader's zxid to (e, 0) before
    NEWLEADER, so a follower snapshots (e, 0) after syncing while a leader that crashed
    before logging a transaction still has its older zxid on disk): they are serving
    (FOLLOWING, or OBSERVING for observers),
    with the published vote (leader, leader's lastZxid, round 1, e) after
    ``updateElectionVote``, logicalclock 1;
  - every other up server is a freshly started LOOKING process (it missed the epoch);
    one with acceptedEpoch e, currentEpoch < e and lastZxid not newer than the leader's
    acked e but lost its leader (or crashed) before NEWLEADER: it counts in the quorum
    that established e (e.g. ``--epoch 2=1:2`` next to leader 3 with ``--epoch 3=2``);
  - the leader plus its voter learners and ackers must be a quorum (else no leader of e could have
    been established: ``InputError``); the history records the establishment of e;
  - the leader is down (crashed, not counted against the crash budget); all other
    servers' send queues and ``last`` messages are empty (stale messages of the previous
    election are not reconstructed).

* ``established``: the same ensemble, but its leader is alive and in broadcast (LEADING,
  logicalclock 1, the published vote as above, a LearnerHandler for every learner). The
  starting point for "a server (re)joins an established quorum" (late starters, restarts)
  and "a running leader gives up" cases (ZOOKEEPER-2164, -1514, -1732). Its in-memory
  zxid is (e, 0) if it has logged nothing in epoch e (``startZkServer``, §7), its disk
  value stays (not under ``Variant.zxid_on_disk_only``).

  ``ModelConfig.rounds`` gives a member the round it decided in (default 1): its
  logicalclock and its vote's round, e.g. a leader re-elected in round 2 next to a
  follower that decided in round 1 and connected late (ZOOKEEPER-1732).

  Under the pre-fix variants the published votes are what those releases would have
  published: round -1 with ``result_round_minus_one`` (the LOOKING exit's vote), and the
  pre-election epoch e - 1 with ``no_update_election_vote`` (never refreshed after sync).

  Servers without an explicit initial state get currentEpoch = acceptedEpoch = 1 and
  lastZxid (0, 0) in these two scenarios (an ensemble that established epoch 1 and has not
  logged a transaction yet); in ``startup`` they get all zeros.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zkcheck.errors import InputError
from zkcheck.model.config import ZXID_COUNTER_LIMIT, ServerInit, zxid_pair
from zkcheck.model.faults import booted_server, down_server
from zkcheck.model.state import (
    F_CLOCK,
    F_PHASE,
    F_PROP,
    F_STATE,
    F_VOTE,
    F_ZAB,
    FOLLOWING,
    L_BROADCAST,
    LEADING,
    LOOKING,
    NO_VOTE_ROUND,
    OBSERVING,
    P_DOWN,
    P_ROLE,
    Z_SERVING,
    ZR_LEADER,
    ZR_LEARNER,
    pack_key,
    pack_vote,
    pair_bit,
    set_volatile_zxid,
)

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel

def persistent_init(m: FLEModel) -> list[ServerInit]:
    """Per-server persistent state at the start, in configuration order."""
    return [m.config.init_of(sid) for sid in m.config.servers]


def _proto(m: FLEModel, init: ServerInit, sid: int) -> tuple:
    """The fields of a server with persistent state ``init``; a missing acceptedEpoch file
    (``ModelConfig.missing_accepted_epoch``) is the mark -1 in F_HWM, the acceptedEpoch in
    memory stays (``zkcheck.model.state.accepted_epoch_missing``)."""
    zx = init.zxid()
    ce, ae = init.current_epoch, init.accepted_epoch
    mark = -1 if sid in m.config.missing_accepted_epoch else ae
    return (P_DOWN, LOOKING, 0, None, None, (), m.empty_votes, m.empty_votes, None, None,
            ce, ae, zx, (ce, mark), None)


def _down(m: FLEModel, init: ServerInit, sid: int) -> tuple:
    return down_server(m, _proto(m, init, sid))


def _links(m: FLEModel, servers: list[tuple]) -> int:
    links = 0
    for i in range(m.n):
        for j in range(i + 1, m.n):
            if servers[i][F_PHASE] != P_DOWN and servers[j][F_PHASE] != P_DOWN:
                links |= pair_bit(i, j, m.n)
    return links


def initial_state(m: FLEModel) -> tuple:
    """The initial state of ``m.config.scenario``."""
    config = m.config
    inits = persistent_init(m)
    late = 0
    servers: list[tuple] = []
    for k, sid in enumerate(config.servers):
        if sid in config.late:
            late |= 1 << k
            servers.append(_down(m, inits[k], sid))
        else:
            booted = booted_server(m, _proto(m, inits[k], sid), k)
            clock = dict(config.rounds).get(sid, 0)
            servers.append(booted[:F_CLOCK] + (clock,) + booted[F_CLOCK + 1:])
    hist: tuple = ()
    if config.scenario in ("leader-crash", "established"):
        servers, hist = _ensemble(m, servers, inits, config.scenario)
    chans = tuple(None if i == j else (None, (), None) for i in range(m.n) for j in range(m.n))
    f, b = config.faults, config.bounds
    budget = (f.crashes, f.restarts, f.link_failures, b.timeouts, b.client_writes,
              f.reconnects)
    return (tuple(servers), chans, _links(m, servers), budget, late, hist)


def _ensemble(m: FLEModel, servers: list[tuple], inits: list[ServerInit], scenario: str
              ) -> tuple[list[tuple], tuple]:
    """An established ensemble; its leader crashed (``leader-crash``) or alive."""
    config = m.config
    up_voters = [k for k in m.voter_idx if config.servers[k] not in config.late]
    if not up_voters:
        raise InputError(f"{scenario} needs at least one voter that is up at the start")
    if config.leader is None:
        lk = max(up_voters,
                 key=lambda k: (inits[k].current_epoch, inits[k].zxid(), m.sids[k]))
    else:
        lk = m.index[config.leader]
    lead = inits[lk]
    e, lzx = lead.current_epoch, lead.zxid()
    if e < 1:
        raise InputError(f"{scenario} needs the leader's currentEpoch >= 1 "
                         "(an epoch must have been established)")
    synced = lzx if config.leader is None else max(lzx, e * ZXID_COUNTER_LIMIT)
    learners = [k for k in range(m.n) if k != lk and config.servers[k] not in config.late
                and inits[k].current_epoch == e and inits[k].accepted_epoch == e
                and inits[k].zxid() <= synced]
    # voters that acked e (acceptedEpoch e) but crashed or lost the leader before its
    # NEWLEADER (currentEpoch < e): fresh LOOKING processes, members of the ack quorum
    ackers = [k for k in m.voter_idx if k != lk and config.servers[k] not in config.late
              and inits[k].accepted_epoch == e and inits[k].current_epoch < e
              and inits[k].zxid() <= lzx]
    mask = 1 << lk
    for k in learners + ackers:
        if m.voter[k]:
            mask |= 1 << k
    if not m.quorum[mask]:
        sids = [m.sids[k] for k in range(m.n) if mask >> k & 1]
        raise InputError(f"{scenario}: leader {m.sids[lk]} and the voters synced with epoch "
                         f"{e} ({', '.join(map(str, sids))}) are not a quorum, so no leader of "
                         f"epoch {e} can have been established")
    # The published vote carries the leader's zxid *at its election*, before any
    # transaction of epoch e: updateElectionVote refreshes only the peerEpoch (§7 f4), so a
    # follower still answers with that older zxid (seen in real 3.8 logs: FOLLOWING(leader 3,
    # zxid 0x0, round 1, peerEpoch 1) after writes in epoch 1).
    elected = lzx if zxid_pair(lzx)[0] < e else max(
        (i.zxid() for i in inits if zxid_pair(i.zxid())[0] < e), default=0)
    variant = m.variant
    rounds = dict(config.rounds)

    def vote_in(k: int) -> tuple[int, int]:
        """(logicalclock, published vote) of member ``k``, which decided in its round."""
        rnd = rounds.get(m.sids[k], 1)
        return rnd, pack_vote(LOOKING, m.sids[lk], elected,
                              NO_VOTE_ROUND if variant.result_round_minus_one else rnd,
                              max(e - 1, 0) if variant.no_update_election_vote else e)

    for k in learners:
        s = list(servers[k])
        s[F_STATE] = FOLLOWING if m.voter[k] else OBSERVING
        s[F_PHASE] = P_ROLE
        s[F_CLOCK], s[F_VOTE] = vote_in(k)
        s[F_PROP] = pack_key(m.sids[lk], elected, max(e - 1, 0))
        s[F_ZAB] = (ZR_LEARNER, Z_SERVING, 0)
        servers[k] = tuple(s)
    if scenario == "leader-crash":
        servers[lk] = _down(m, lead, m.sids[lk])
    else:
        s = list(servers[lk])
        s[F_STATE] = LEADING
        s[F_PHASE] = P_ROLE
        s[F_CLOCK], s[F_VOTE] = vote_in(lk)
        s[F_PROP] = pack_key(m.sids[lk], elected, max(e - 1, 0))
        conn = sum(1 << k for k in learners)
        # the NEWLEADER quorum: the leader and its voter learners (ackers missed NEWLEADER)
        acks = (1 << lk) | sum(1 << k for k in learners if m.voter[k])
        s[F_ZAB] = (ZR_LEADER, L_BROADCAST, e, acks, conn, ())
        if not variant.zxid_on_disk_only and lzx < e * ZXID_COUNTER_LIMIT:
            set_volatile_zxid(s, e * ZXID_COUNTER_LIMIT)  # startZkServer, nothing logged
        servers[lk] = tuple(s)
    # what the members had when they acked the epoch: not newer than the leader (a learner
    # ahead of an explicit leader got (e, 0) from its NEWLEADER, after the establishment)
    carried = tuple(sorted((m.sids[k],) + min((inits[k].current_epoch, inits[k].zxid()),
                                              (e, lzx))
                           for k in learners + ackers if m.voter[k]))
    hist = ((e, m.sids[lk], mask, (e, lzx), carried),)
    return servers, hist
