"""Quorum systems for the abstract discovery model: one table for the explicit model and
the matching Z3 formula for BMC and induction (server index k stands for the k-th voter)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import z3

from zkcheck.invariants.quorum_z3 import Verifier, quorum_formula


@dataclass(frozen=True)
class Quorums:
    """``table[mask]``: is the set of indices in ``mask`` a quorum; ``formula(members)``:
    the same as a Z3 formula over one Bool per index."""

    n: int
    name: str
    table: tuple[bool, ...]
    formula: Callable[[list], z3.BoolRef]

    @property
    def smallest(self) -> int | None:
        """Size of a smallest quorum (None: no set is a quorum)."""
        sizes = [m.bit_count() for m, q in enumerate(self.table) if q]
        return min(sizes) if sizes else None


def majority(n: int) -> Quorums:
    return Quorums(n, "majority", tuple(m.bit_count() > n // 2 for m in range(1 << n)),
                   lambda members: z3.AtLeast(*members, n // 2 + 1))


def from_verifier(verifier: Verifier, *, with_table: bool = True) -> Quorums:
    """The quorums of a real configuration (QuorumMaj or QuorumHierarchical) over its voters
    in id order (without the explicit table, which has 2^n entries, if not needed)."""
    sids = sorted(verifier.voters)
    n = len(sids)
    table = tuple(verifier.is_quorum({sids[k] for k in range(n) if m >> k & 1})
                  for m in range(1 << n)) if with_table else ()
    return Quorums(n, verifier.kind, table,
                   lambda members: quorum_formula(verifier, dict(zip(sids, members,
                                                                     strict=True))))


def from_table(n: int, table: Sequence[bool], name: str) -> Quorums:
    """Any table (tests: vacuous or non-intersecting systems), as a DNF of exact sets."""
    table = tuple(table)

    def formula(members: list) -> z3.BoolRef:
        return z3.Or([z3.And([members[k] if m >> k & 1 else z3.Not(members[k])
                              for k in range(n)]) for m in range(1 << n) if table[m]])
    return Quorums(n, name, table, formula)
