"""Semantic mutants of model/: realistic bugs a change to the model could introduce.

Each mutant is (name, file, original text, mutated text); the text must occur exactly once.
``make mutate`` (``mutation/run.py``) applies one at a time and runs the specs.

Equivalent mutants (no behaviour can tell them apart from the model; not counted):

* ``epoch-quorum-without-leader``: dropping "the leader is in ``connecting``" from the
  epoch decision. ``start_role`` puts the leader into ``connecting`` (mask ``1 << k``)
  before any FOLLOWERINFO can arrive and nothing removes it, so the test is always true
  where it is evaluated. ZOOKEEPER-1270's bug needs the leader's own contribution to be a
  separate late step, which the model does not have (see the abstract model's flag).

Not equivalent, but seen by no property (the one survivor by a property, counted as such):

* ``crash-keeps-learner-handler``: a leader keeps the handler of a learner that crashed.
  It only changes when a leader in broadcast notices it lost its quorum (``lost-quorum``),
  i.e. it lingers as LEADING. ZooKeeper lets a leader linger until syncLimit, so no
  invariant may forbid it, and the liveness properties are "eventually" goals that a run
  reaches before the crash (the leader was established with a live quorum). Catching it
  needs a leads-to property ("a leader without a live quorum eventually steps down"),
  which the liveness checker does not have; the specs see it only as a count drift.
"""

from __future__ import annotations

MUTANTS: list[tuple[str, str, str, str]] = [
    ("quorum-one-too-small", "model/quorum.py",
     "return mask.bit_count() > self.half",
     "return mask.bit_count() >= self.half"),
    ("vote-order-sid-first", "model/votes.py",
     "return new > cur and positive[new & 63]",
     "return (new & 63, new) > (cur & 63, cur) and positive[new & 63]"),
    ("ack-epoch-twice", "model/zab.py",
     "_set_learner(s, Z_ACKEPOCH, 0 if m.variant.ack_epoch_twice else 1)",
     "_set_learner(s, Z_ACKEPOCH, 0)"),
    ("epoch-bump-strict", "model/zab.py",
     "if a > epoch or (a == epoch and not m.variant.epoch_bump_strict):",
     "if a > epoch:"),
    ("accepted-epoch-not-persisted", "model/faults.py",
     "if m.variant.accepted_epoch_lost_on_crash:",
     "if True:"),
    ("ack-quorum-not-awaited", "model/zab.py",
     "or m.variant.ack_quorum_not_awaited_1191):",
     "or True):"),
    ("connecting-set-reused-as-ack-set", "model/zab.py",
     "phase, mask = L_EPOCH, bit",
     "phase = L_EPOCH"),
    ("ackepoch-newer-check-dropped", "model/zab.py",
     "if ackepoch_rejected(sent, (ls[F_CE], ls[F_ZXID])):",
     "if False:"),
    ("crash-keeps-learner-handler", "model/faults.py",
     "(lz[4] & ~(1 << k),)",
     "(lz[4],)"),
    ("checkleader-self-any-round", "model/election.py",
     "return m.variant.checkleader_self_any_round or clock == rnd",
     "return True"),
    ("connect-back-fails", "model/network.py",
     "back = not m.variant.connect_back_fails",
     "back = False"),
    ("termination-test-leader-only", "model/election.py",
     "if v is not None and v & VOTE_BITS == target:",
     "if v is not None and v & LEADER_BITS == target & LEADER_BITS:"),
    ("current-epoch-not-set-on-newleader", "model/zab.py",
     "if not m.variant.current_epoch_on_uptodate_1282:",
     "if False:"),
    ("epoch-quorum-without-leader", "model/zab.py",
     "if phase == L_DISCOVERY and mask & bit and q[mask]:",
     "if phase == L_DISCOVERY and q[mask]:"),
]

EQUIVALENT = frozenset({"epoch-quorum-without-leader"})
