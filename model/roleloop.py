"""The role loop of ``QuorumPeer.run`` (§6): what happens when a role ends."""

from __future__ import annotations

from zkcheck.model.state import F_DEC, F_PHASE, F_RESULT, F_STATE, F_ZAB, LOOKING, P_IDLE


def back_to_looking(sl: list) -> None:
    """A role (FOLLOWING, LEADING, OBSERVING) ended for any reason: ``state := LOOKING`` and
    the loop calls ``lookForLeader`` again (StartRound, a new round). logicalclock, proposal
    and currentVote are kept; recvqueue is empty (nothing is queued while not LOOKING).
    ``sl`` is the server's fields as a mutable list."""
    sl[F_STATE] = LOOKING
    sl[F_PHASE] = P_IDLE
    sl[F_RESULT] = None
    sl[F_DEC] = None
    sl[F_ZAB] = None
