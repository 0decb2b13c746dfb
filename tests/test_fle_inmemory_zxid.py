"""The in-memory zxid (§7): a leader that starts serving sets it to (epoch, 0) without
logging anything; a restart reloads the disk value."""

from __future__ import annotations

from zkcheck.fle_options import build_fle_model
from zkcheck.model.state import F_HWM, F_PHASE, F_ZXID, P_DOWN, T_HIST, disk_zxid

# leader 1 established epoch 2 with 2, nothing logged in epoch 2; both logs end at (1, 5).
# 2 crashes (1 loses its quorum, stays up) and restarts.
QUORUM_LOSS = dict(servers=2, scenario="established", leader=1,
                   epoch=("1=2", "2=2"), zxid=("1=1:5", "2=1:5"),
                   crashes=1, restarts=1, max_round=3)


def _leaders_of_epoch(m, epoch: int) -> set[int]:
    """Leaders that establish ``epoch`` in runs where leader 1 never crashes."""
    init = m.initial_states()[0]
    seen, frontier = {init}, [init]
    while frontier:
        frontier = [t for s in frontier for label, t in m.actions(s)
                    if label != "crash 1" and t not in seen and not seen.add(t)]
    return {h[1] for st in seen for h in st[T_HIST] if h[0] == epoch}


def test_serving_leader_has_volatile_zxid_and_disk_value_survives():
    m = build_fle_model(**QUORUM_LOSS)
    s = m.initial_states()[0][0][0]
    assert s[F_ZXID] == 2 * m.zxid_base and disk_zxid(s) == 1 * m.zxid_base + 5
    assert s[F_HWM] == (2, 2, 1 * m.zxid_base + 5)
    # a crash reloads the disk value
    after = next(succ for label, succ in m.actions(m.initial_states()[0])
                 if label == "crash 1")[0][0]
    assert after[F_PHASE] == P_DOWN and after[F_ZXID] == 1 * m.zxid_base + 5
    assert len(after[F_HWM]) == 2


def test_leader_losing_quorum_without_writes_is_reelected_whatever_the_sids():
    """1 never crashes. Only 1 can establish epoch 3: its vote carries (2, 0), the
    restarted 2's its disk zxid (1, 5). With one zxid per server the larger sid wins."""
    assert _leaders_of_epoch(build_fle_model(**QUORUM_LOSS), 3) == {1}
    old = build_fle_model(**QUORUM_LOSS, variant_flags=("zxid_on_disk_only",))
    assert _leaders_of_epoch(old, 3) == {2}
