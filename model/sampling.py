"""What random walks need to know about the FLE model (``zkcheck simulate``).

The explorer's walk engine is protocol-agnostic; these functions back the optional model
hooks it uses (``explorer.schedulers``, ``explorer.swarm``, ``explorer.coverage``):

* ``actor(label)``: the server that performs an action, read from the label's sids:
  ``deliver A->B`` is B's receiver thread, ``transmit A->B`` A's sender, ``build A->B`` and
  ``reply A->B`` A's receiver thread, a pair action
  (``connect A-B``, ``linkdown A-B``, ``reconnect A-B``) belongs to A, every other label
  ends with the server's sid (``start 3``, ``crash 2``);
* ``action_kinds``: the first words of the labels this configuration can produce;
* ``features``: per server the role and election round it is in (coverage);
* ``swarm_knobs`` / ``with_knobs``: the fault kinds and budgets swarm testing switches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from zkcheck.explorer.swarm import Knob
from zkcheck.model.config import Bounds, Faults
from zkcheck.model.state import F_CLOCK, F_PHASE, F_STATE, P_DOWN, STATE_NAMES

if TYPE_CHECKING:
    from zkcheck.model.fle import FLEModel

ELECTION_KINDS = ("start", "process", "drain", "decide", "publish", "transmit", "deliver",
                  "connect")
ZAB_KINDS = ("followerinfo", "leaderinfo", "ackepoch", "newleader", "uptodate", "lost",
             "lost-quorum")
FAULT_KNOBS = tuple(Faults.__dataclass_fields__)  # crashes, restarts, link_failures, ...
BOUND_KNOBS = ("timeouts", "client_writes")


def actor(label: str) -> int:
    word, _, rest = label.partition(" ")
    if "->" in rest:
        sender, receiver = rest.split("->")
        return int(receiver if word == "deliver" else sender)
    return int(rest.split("-")[0])


def action_kinds(m: FLEModel) -> list[str]:
    config = m.config
    b, f = config.bounds, config.faults
    kinds = list(ELECTION_KINDS) + list(ZAB_KINDS)
    optional = {"timeout": b.timeouts or b.free_timeouts, "giveup": b.timeouts,
                "write": b.client_writes, "log": b.client_writes, "crash": f.crashes,
                "restart": f.restarts, "boot": bool(config.late),
                "linkdown": f.link_failures, "reconnect": f.reconnects,
                "build": b.nonatomic_replies, "reply": b.nonatomic_replies}
    return kinds + [kind for kind, possible in optional.items() if possible]


def features(m: FLEModel, state: tuple) -> Iterator[tuple[str, object]]:
    for sid, s in zip(m.sids, state[0], strict=True):
        yield f"server {sid} role", "down" if s[F_PHASE] == P_DOWN else STATE_NAMES[s[F_STATE]]
        yield f"server {sid} round", s[F_CLOCK]


def swarm_knobs(m: FLEModel) -> list[Knob]:
    b, f = m.config.bounds, m.config.faults
    return ([Knob(name, getattr(f, name)) for name in FAULT_KNOBS]
            + [Knob(name, getattr(b, name)) for name in BOUND_KNOBS])


def with_knobs(m: FLEModel, values: dict[str, int]) -> FLEModel:
    from zkcheck.model.fle import FLEModel

    config = m.config
    faults = {k: v for k, v in values.items() if k in FAULT_KNOBS}
    bounds = {k: v for k, v in values.items() if k in BOUND_KNOBS}
    unknown = set(values) - set(faults) - set(bounds)
    if unknown:
        raise ValueError(f"unknown swarm knob {sorted(unknown)[0]!r}")
    faults_value: Faults = replace(config.faults, **faults)
    bounds_value: Bounds = replace(config.bounds, **bounds)
    return FLEModel(replace(config, faults=faults_value, bounds=bounds_value), m.verifier)
