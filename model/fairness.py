"""Weak-fairness classes of the FLE model's actions, for liveness (fle-semantics.md §8.3).

Liveness is judged only on runs in which every action class that stays enabled is
eventually taken (weak fairness, ``zkcheck.explorer.liveness``). §8.3 asks for fairness of
"message delivery between alive, connected servers, of Transmit/LinkUp, of timeouts, and
with faults stopping eventually". Here:

* fair, one class per action label (so per server or per channel): every election step
  (``start``, ``process``, ``drain``, ``decide``, ``timeout``, ``publish``), every network
  step (``transmit``, ``deliver``, ``connect``), every Zab step of a running role
  (``followerinfo`` ... ``log``, and the forced role endings ``lost``, ``lost-quorum``),
  and ``boot`` of a late starter (a configured server does start);
* not fair (faults and environment choices, which a run may take or not): ``crash``,
  ``restart``, ``linkdown``, ``giveup`` (a role abandoned before the protocol forces it)
  and ``write`` (client transactions). Each is bounded by a budget, so every run takes
  only finitely many of them: "faults eventually stop" holds by construction.

A fair class is one label, not one rule: "server 2 processes a notification" must happen
eventually, "some server processes something" would be too weak to exclude starvation.
"""

from __future__ import annotations

UNFAIR = frozenset({"crash", "restart", "linkdown", "giveup", "write"})
"""First words of the labels of fault and environment actions."""


def fairness_class(label: str) -> str | None:
    """The weak-fairness class of an action label: the label itself, or None if the
    action is a fault or an environment choice (``UNFAIR``)."""
    return None if label.split(" ", 1)[0] in UNFAIR else label
