"""Stable 64-bit fingerprints of canonical state encodings.

xxh3-64 of the model's canonical bytes: the same value on every run, process and machine
(unlike Python's salted ``hash()``), and about 50 ns for a typical state.
"""

from __future__ import annotations

import xxhash

fingerprint = xxhash.xxh3_64_intdigest
"""fingerprint(data: bytes) -> int in [0, 2**64)."""


def collision_probability(distinct: int, generated: int) -> float:
    """TLC's optimistic estimate that a fingerprint collision hid a state.

    Every one of the ``generated - distinct`` look-ups that found a "known" state could
    have hit a different state with the same fingerprint among ``distinct`` stored ones:
    ``distinct * (generated - distinct) / 2**64``.
    """
    return distinct * max(generated - distinct, 0) / 2.0**64
