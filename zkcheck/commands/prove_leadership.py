"""``zkcheck prove leadership``: one established leader per epoch, bounded and unbounded.

Parses options, calls ``zkcheck.invariants.leadership_prove`` and prints its text or JSON
(``zkcheck/render/prove_leadership.py``; schema in docs/proofs.md). Registered on the
``prove`` group in prove.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from zkcheck.cli import EXIT_OK, EXIT_VIOLATION
from zkcheck.errors import InputError
from zkcheck.invariants.leadership_prove import prove_leadership, prove_leadership_config
from zkcheck.model.discovery_abstract import AbstractVariant
from zkcheck.model.zoocfg import load_zoocfg
from zkcheck.render.prove_leadership import render_text, to_json
from zkcheck.schema import dumps, envelope


@click.command("leadership")
@click.option("--servers", "n", type=int, default=None,
              help="Number of voters (majority quorums), 1..9.  [default: 3]")
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
              help="A zoo.cfg: prove its quorums intersect and combine with the every-N "
                   "proof (Leadership for any intersecting quorum system).")
@click.option("--depth", type=int, default=None,
              help="Unroll bounded model checking to this many steps.  [default: at least "
                   "8 and long enough for a leader to be established: 9 for 5 servers, 13 "
                   "for 7]")
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
def leadership(n: int | None, config: Path | None, depth: int | None, max_epoch: int,
               bmc_only: bool, flags: tuple[str, ...], k: int, without: tuple[str, ...],
               as_json: bool) -> int:
    """Prove that no two leaders establish the same epoch (fle-semantics.md §8.2).

    Bounded model checking with Z3 to --depth (a counterexample is a shortest one and is
    printed like explorer traces), an unbounded proof by k-induction for the given number
    of servers, and a parameterized proof for every number of servers and every
    intersecting quorum system, on an abstraction that over-approximates FLE and keeps Zab
    discovery exact. Sanity checks (initial condition satisfiable, a leader can be
    established within the bound, the invariant holds in some state with a step) run every
    time; a failed one makes the verdict VACUOUS. Exit 0 proven (or, with --bmc-only, no
    counterexample within the depth), 1 violated, vacuous or induction failed (the
    counterexample to induction is printed), 2 bad input, 4 internal error (two analyses
    disagree, or zkcheck failed; details with zkcheck --debug).
    """
    variant = AbstractVariant.from_flags(flags)
    if config is not None:
        if n is not None or flags or without or bmc_only or k != 1:
            raise InputError("--config takes no --servers, --variant, --without-invariant, "
                             "--bmc-only or --k: it proves the file's ensemble with the "
                             "default rules")
        cfg = load_zoocfg(config)
        if cfg.standalone:
            if as_json:
                click.echo(dumps(envelope("prove leadership", EXIT_OK, verdict="standalone",
                                          file=str(config),
                                          reason="standalone server, no leader election")))
                return EXIT_OK
            click.echo(f"zkcheck prove leadership: {config}: standalone server, no leader "
                       f"election: nothing to prove\nverdict: STANDALONE (exit {EXIT_OK})")
            return EXIT_OK
        report = prove_leadership_config(cfg.verifier(), str(config), depth=depth,
                                         max_epoch=max_epoch)
    else:
        report = prove_leadership(3 if n is None else n, depth=depth, max_epoch=max_epoch,
                                  bmc_only=bmc_only, variant=variant, k=k, without=without)
    if as_json:
        click.echo(json.dumps(to_json(report), indent=2))
    else:
        click.echo(render_text(report))
    return EXIT_OK if report.ok else EXIT_VIOLATION
