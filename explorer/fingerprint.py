"""Stable 64-bit fingerprints of canonical state encodings.

xxh3-64 of the model's canonical bytes: the same value on every run, process and machine
(unlike Python's salted ``hash()``), and about 50 ns for a typical state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


def fingerprinters(
    model: Any, symmetry: bool
) -> tuple[Callable[[Any], int], Callable[[list], list[int]]]:
    """``(one, many)``: the fingerprint of a state and of a list of states.

    With ``symmetry`` the fingerprint is that of ``model.canonical(state)``. Batches are
    mapped, so a model whose ``encode`` is a C function (FLE's ``orjson.dumps``) is
    fingerprinted without a Python call per state.
    """
    encode = model.encode
    if symmetry:
        canonical = getattr(model, "canonical", None)
        if canonical is None:
            raise ValueError(f"model {model.name!r} declares no symmetry (no canonical())")

        def one(state: Any) -> int:
            return fingerprint(encode(canonical(state)))

        def many(states: list) -> list[int]:
            return [fingerprint(encode(canonical(s))) for s in states]

        return one, many

    def plain(state: Any) -> int:
        return fingerprint(encode(state))

    def many_plain(states: list) -> list[int]:
        return list(map(fingerprint, map(encode, states)))

    return plain, many_plain
