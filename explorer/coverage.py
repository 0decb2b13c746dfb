"""What a set of random walks covered: a mergeable summary that never claims completeness.

Walks run in batches (possibly in other processes); each batch returns a ``Coverage`` and
the driver merges them in walk order, so the merged numbers do not depend on the worker
count. Distinct states are counted exactly (a set of 64-bit fingerprints) up to a memory
cap, then by a HyperLogLog sketch (Apache DataSketches), and the report says which.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from datasketches import hll_sketch

HLL_LG_K = 14
"""2**14 registers: relative standard error about 0.8%."""


class DistinctCounter:
    """Distinct fingerprints: an exact set up to ``cap`` entries, a HyperLogLog after."""

    def __init__(self, cap: int = 1_000_000):
        self.cap = cap
        self.exact: set[int] | None = set()
        self.sketch: hll_sketch | None = None

    def add_many(self, fingerprints: Iterable[int]) -> None:
        if self.exact is not None:
            self.exact.update(fingerprints)
            if len(self.exact) <= self.cap:
                return
            self.sketch = hll_sketch(HLL_LG_K)
            fingerprints, self.exact = self.exact, None
        update = self.sketch.update
        for fp in fingerprints:
            update(int(fp))

    @property
    def is_exact(self) -> bool:
        return self.exact is not None

    @property
    def count(self) -> int:
        if self.exact is not None:
            return len(self.exact)
        return round(self.sketch.get_estimate())

    def describe(self) -> str:
        if self.exact is not None:
            return f"{len(self.exact):,} (exact)"
        low, high = self.sketch.get_lower_bound(2), self.sketch.get_upper_bound(2)
        return (f"~{self.count:,} (HyperLogLog estimate, 95% within {low:,.0f}..{high:,.0f};"
                f" exact count stopped at the cap of {self.cap:,})")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"count": self.count, "exact": self.is_exact, "cap": self.cap}
        if self.sketch is not None:
            data["estimator"] = f"HyperLogLog (lg_k {HLL_LG_K})"
            data["bounds_95"] = [round(self.sketch.get_lower_bound(2)),
                                 round(self.sketch.get_upper_bound(2))]
        return data


@dataclass
class Coverage:
    """Counters of one batch of walks, or of a whole run after ``merge``."""

    walks: int = 0
    steps: int = 0
    max_depth: int = 0
    kinds: Counter = field(default_factory=Counter)  # steps per action kind
    ends: Counter = field(default_factory=Counter)  # walks per way of ending
    features: dict[str, set[Hashable]] = field(default_factory=dict)
    witnesses: dict[str, int] = field(default_factory=dict)  # name -> first walk index
    fingerprints: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))

    def add_features(self, pairs: Iterable[tuple[str, Hashable]]) -> None:
        features = self.features
        for key, value in pairs:
            seen = features.get(key)
            if seen is None:
                features[key] = {value}
            else:
                seen.add(value)

    def merge(self, other: Coverage, distinct: DistinctCounter) -> None:
        """Fold ``other`` (a later batch) into this one; its fingerprints go to ``distinct``."""
        self.walks += other.walks
        self.steps += other.steps
        self.max_depth = max(self.max_depth, other.max_depth)
        self.kinds.update(other.kinds)
        self.ends.update(other.ends)
        for key, values in other.features.items():
            self.features.setdefault(key, set()).update(values)
        for name, walk in other.witnesses.items():
            self.witnesses.setdefault(name, walk)
        distinct.add_many(other.fingerprints.tolist())


def action_kind_function(model: Any) -> Callable[[str], str]:
    """The model's ``action_kind`` hook, or the default: the label's first word."""
    hook = getattr(model, "action_kind", None)
    return hook if hook is not None else (lambda label: label.split(" ", 1)[0])


def action_coverage(model: Any, fired: Counter) -> dict[str, Any]:
    """Transitions generated per action kind in an exhaustive search (TLC's coverage), and
    the kinds the model declares (``action_kinds()``) that never fired; ``None`` when the
    model declares none (then nothing can be said to be missing)."""
    kind = action_kind_function(model)
    per_kind: Counter = Counter()
    for label, count in fired.items():
        per_kind[kind(label)] += count
    declared = getattr(model, "action_kinds", None)
    kinds = list(declared()) if declared is not None else None
    return {"transitions_per_action_kind": dict(sorted(per_kind.items())),
            "never_fired": [k for k in kinds if not per_kind.get(k)] if kinds is not None
            else None}


def never_taken(coverage: Coverage, kinds: Sequence[str]) -> list[str]:
    """The action kinds the model declares that no walk took."""
    return [kind for kind in kinds if not coverage.kinds.get(kind)]


def feature_table(coverage: Coverage) -> dict[str, list[Any]]:
    """Each feature (e.g. "server 2 role") with its values seen, sorted for a stable report."""
    return {key: sorted(values, key=lambda v: (str(type(v)), v))
            for key, values in sorted(coverage.features.items())}
