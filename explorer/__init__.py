"""The checker: search, state store, traces and results. Knows nothing about ZooKeeper."""

from zkcheck.explorer.model import Model, Property, PropertyKind, invariant, liveness, witness
from zkcheck.explorer.result import (
    HOLDS,
    HOLDS_WITHIN_BOUNDS,
    NOT_CHECKED,
    VIOLATED,
    WITNESS_FOUND,
    WITNESS_NOT_FOUND,
    BoundHit,
    Bounds,
    Result,
    Stats,
    Verdict,
)
from zkcheck.explorer.search import Graph, Progress, Search, explore
from zkcheck.explorer.trace import ReplayError, Trace, replay, replay_labels

__all__ = [
    "HOLDS", "HOLDS_WITHIN_BOUNDS", "NOT_CHECKED", "VIOLATED", "WITNESS_FOUND",
    "WITNESS_NOT_FOUND", "BoundHit", "Bounds", "Graph", "Model", "Progress", "Property",
    "PropertyKind", "ReplayError", "Result", "Search", "Stats", "Trace", "Verdict", "explore",
    "invariant", "liveness", "replay", "replay_labels", "witness",
]
