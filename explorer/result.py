"""What a search returns: bounds, verdicts with their evidence, statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zkcheck.explorer.model import PropertyKind
from zkcheck.explorer.trace import Trace

HOLDS = "holds"
HOLDS_WITHIN_BOUNDS = "holds within bounds"
VIOLATED = "violated"
WITNESS_FOUND = "witness found"
WITNESS_NOT_FOUND = "witness not found"
NOT_CHECKED = "not checked"
NOT_VIOLATED = "not violated"  # sampling: never "holds"; the note says how many walks


@dataclass(frozen=True)
class Bounds:
    """Limits of one search; ``None`` means unlimited.

    ``max_depth`` counts steps from an initial state (initial states have depth 0).
    """

    max_depth: int | None = None
    max_states: int | None = None
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_depth", "max_states", "max_seconds"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")


@dataclass(frozen=True)
class BoundHit:
    """A bound that stopped (part of) the search, and what was left unexplored."""

    bound: str  # "depth" | "states" | "time" | "interrupted" | "stopped ..." (stop options)
    limit: float | int | None
    frontier: int  # states reached but not expanded
    detail: str = ""

    def describe(self) -> str:
        limit = "" if self.limit is None else f" {self.limit}"
        text = f"{self.bound} bound{limit} hit: {self.frontier} states left on the frontier"
        if self.bound == "interrupted" or self.bound.startswith("stopped"):
            text = f"{self.bound}: {self.frontier} states left on the frontier"
        if self.bound == "sampled":
            return f"sampled, not explored: {self.detail}"
        return text + (f" ({self.detail})" if self.detail else "")


@dataclass
class Verdict:
    """The verdict on one property, with its evidence (a trace when there is one)."""

    name: str
    kind: PropertyKind
    status: str
    trace: Trace | None = None
    description: str = ""
    note: str = ""
    required: bool = True  # a witness that was not asked for does not fail the run
    explanation: dict[str, Any] | None = None  # why the trace's last step breaks it

    @property
    def ok(self) -> bool:
        if self.status == WITNESS_NOT_FOUND:
            return not self.required
        return self.status in (HOLDS, HOLDS_WITHIN_BOUNDS, WITNESS_FOUND, NOT_CHECKED,
                               NOT_VIOLATED)


@dataclass
class Stats:
    distinct: int = 0
    generated: int = 0
    max_depth: int = 0
    levels: list[int] = field(default_factory=list)
    elapsed: float = 0.0
    store_bytes: int = 0
    collision_probability: float = 0.0
    deadlocks: int = 0

    @property
    def states_per_second(self) -> float:
        return self.distinct / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def bytes_per_state(self) -> float:
        return self.store_bytes / self.distinct if self.distinct else 0.0


@dataclass
class Result:
    """Verdicts, statistics and the bounds that stopped the search."""

    model: str
    search: str
    bounds: Bounds
    verdicts: dict[str, Verdict]
    stats: Stats
    bounds_hit: list[BoundHit] = field(default_factory=list)
    deadlock_trace: Trace | None = None
    check_deadlock: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True iff every reachable state was explored (no bound cut the search)."""
        return not self.bounds_hit

    @property
    def ok(self) -> bool:
        deadlock_ok = not (self.check_deadlock and self.stats.deadlocks)
        return deadlock_ok and all(v.ok for v in self.verdicts.values())
