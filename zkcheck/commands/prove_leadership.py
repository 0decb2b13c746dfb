"""``zkcheck prove leadership``: one established leader per epoch, bounded and unbounded.

Parses options, calls ``zkcheck.invariants.leadership_prove`` and prints its text or JSON
(schema in docs/prove-leadership.md). Registered on the ``prove`` group in prove.py.
"""

from __future__ import annotations

import json

import click

from zkcheck.cli import EXIT_OK, EXIT_VIOLATION
from zkcheck.invariants.leadership_prove import prove_leadership, render_text, to_json
from zkcheck.model.discovery_abstract import AbstractVariant


@click.command("leadership")
@click.option("--servers", "n", type=int, default=3, show_default=True,
              help="Number of voters (majority quorums), 1..9.")
@click.option("--depth", type=int, default=8, show_default=True,
              help="Unroll bounded model checking to this many steps.")
@click.option("--max-epoch", type=int, default=2, show_default=True,
              help="BMC only: leaders decide epochs up to this value.")
@click.option("--bmc-only", is_flag=True, help="Skip the unbounded (k-induction) proof.")
@click.option("--variant", "flags", multiple=True, metavar="FLAG",
              help="Restore a pre-fix / broken discovery rule (repeatable): epoch_bump_strict "
                   "(ZOOKEEPER-1343), epoch_quorum_without_leader (ZOOKEEPER-1270), "
                   "ack_quorum_not_awaited (ZOOKEEPER-1191), ack_epoch_twice (test-only).")
@click.option("--k", "k", type=int, default=1, show_default=True,
              help="Induction depth of the unbounded proof.")
@click.option("--without-invariant", "without", multiple=True, metavar="NAME",
              help="Drop an auxiliary invariant (repeatable), to see its counterexample to "
                   "induction.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def leadership(n: int, depth: int, max_epoch: int, bmc_only: bool, flags: tuple[str, ...],
               k: int, without: tuple[str, ...], as_json: bool) -> int:
    """Prove that no two leaders establish the same epoch (fle-semantics.md §8.2).

    Bounded model checking with Z3 to --depth (a counterexample is a shortest one and is
    printed like explorer traces), then an unbounded proof by k-induction with the
    auxiliary invariants of invariants/leadership_aux.py, on an abstraction that
    over-approximates FLE and keeps Zab discovery exact. Exit 0 proven (or, with
    --bmc-only, no counterexample within the depth), 1 violated or induction failed (the
    counterexample to induction is printed), 2 bad input.
    """
    variant = AbstractVariant.from_flags(flags)
    report = prove_leadership(n, depth=depth, max_epoch=max_epoch, bmc_only=bmc_only,
                              variant=variant, k=k, without=without)
    if as_json:
        click.echo(json.dumps(to_json(report), indent=2))
    else:
        click.echo(render_text(report))
    return EXIT_OK if report.ok else EXIT_VIOLATION
