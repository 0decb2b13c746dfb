"""The paused leader's own model, a cross-check of the leader-crash abstraction.

A SIGSTOPped leader is alive: its sockets stay open and it keeps its role, but it takes
no step. Its followers give up after syncLimit ticks (a role timeout) and elect among
themselves. ``predict`` models that episode as the ``leader-crash`` one with the paused
leader named (docs/conformance.md, "Paused servers"). This module builds the direct model
instead: the ``established`` ensemble under that leader, every step of the paused server
blocked (its election and Zab steps, its WorkerReceiver's deliveries, its SendWorker's
transmits, connection changes at its end; messages to it may still reach its wires, as
they reach its socket buffers), and one role give-up per up follower (the ``timeouts``
budget, which is how the model's followers leave a leader that is alive). Both models
must give the same first-leader set; ``predict`` raises if they do not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zkcheck.conformance.exhaustive import EpisodeModel, Exhaustive, search_leaders
from zkcheck.model.config import ModelConfig
from zkcheck.model.fle import FLEModel

if TYPE_CHECKING:
    from zkcheck.conformance.predict import Episode


def acts(label: str, sid: int) -> bool:
    """Is ``sid`` the actor of the model step ``label``? (A paused server takes none.)"""
    word, _, arg = label.partition(" ")
    if word == "deliver":  # its WorkerReceiver reads the wire
        return arg.split("->")[1] == str(sid)
    if word == "transmit":  # its SendWorker writes the socket
        return arg.split("->")[0] == str(sid)
    if word in ("connect", "linkdown", "reconnect"):
        return str(sid) in arg.split("-")
    if word == "expire":
        return str(sid) in arg.split(",")
    return arg == str(sid)


class FrozenModel(EpisodeModel):
    """The episode model with every step of ``frozen`` blocked."""

    def __init__(self, episode: Episode, model: FLEModel, frozen: int) -> None:
        super().__init__(episode, model)
        self.frozen = frozen

    def actions(self, state: tuple) -> list[tuple[str, tuple]]:
        return [a for a in super().actions(state) if not acts(a[0], self.frozen)]


def frozen_leader_config(episode: Episode, max_round: int) -> ModelConfig:
    """The established ensemble under the paused leader, with one give-up per follower."""
    leader = episode.crashed
    late = frozenset(range(1, episode.n + 1)) - episode.up - {leader}
    return ModelConfig.make(episode.n, initial=episode.initial(), late=late, leader=leader,
                            scenario="established", observers=episode.observers,
                            max_round=max_round, timeouts=len(episode.up))


def frozen_leader_leaders(episode: Episode, max_round: int, max_states: int = 30_000,
                          max_seconds: float = 10.0) -> Exhaustive:
    """First leaders of the paused-leader episode in its direct model (exhaustive; without
    partial-order reduction, whose quiet-step argument assumes every server may move)."""
    model = FLEModel(frozen_leader_config(episode, max_round))
    return search_leaders(FrozenModel(episode, model, episode.crashed), max_states,
                          max_seconds, por=False)
