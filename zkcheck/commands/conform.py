"""``zkcheck conform``: run scripted scenarios on a real ZooKeeper ensemble (127.0.0.1) and
compare every election with the model -- the predicted leader set and a replay of the
logged election events."""

from __future__ import annotations

import json
import time
from collections import Counter

import click

from zkcheck.cli import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATION
from zkcheck.conformance.harness import missing_install
from zkcheck.conformance.predict import predict
from zkcheck.conformance.run import run_scenario
from zkcheck.conformance.scenarios import select
from zkcheck.conformance.validate import validate
from zkcheck.errors import InputError
from zkcheck.schema import envelope


def check_scenario(scenario, runs: int, walks: int, validate_states: int,
                   search_states: int = 150_000) -> dict:
    """Run ``scenario`` ``runs`` times; one row per episode with predictions and verdicts."""
    rows: dict[int, dict] = {}
    t = time.monotonic()
    for _ in range(runs):
        run = run_scenario(scenario)
        for idx, er in enumerate(run.episodes):
            row = rows.setdefault(idx, {"scenario": scenario.name, "episode": idx + 1,
                                        "inputs": er.episode.describe(), "predicted": set(),
                                        "unknown": set(), "real": Counter(), "verdicts": [],
                                        "validation": [], "notes": set(), "exact": True,
                                        "search": set()})
            if er.leader is None:
                continue
            try:
                p = predict(er.episode, walks=walks, max_states=search_states)
            except RuntimeError as contradiction:  # two model analyses disagree: a finding
                row["notes"].add(f"internal contradiction: {contradiction}")
                row["verdicts"].append("DISAGREE")
                continue
            v = validate(er.episode, er.leader, run.events, er.t0, er.t_stable, run.journal,
                         max_states=validate_states)
            if v.explained and er.leader not in p.possible:
                if p.exact:  # an exact set cannot grow: the two model analyses disagree
                    row["notes"].add(f"validation explains leader {er.leader}, outside the "
                                     "exact set")
                else:  # the validated behaviour is itself a witness for the leader
                    p.possible.add(er.leader)
            row["predicted"] |= p.possible
            row["exact"] = row["exact"] and p.exact
            row["search"].add(p.search_text())
            row["unknown"] |= p.unknown
            row["real"][er.leader] += 1
            verdict = p.verdict(er.leader)
            for joiner, after in er.joined:
                if after != er.leader:
                    verdict = "DISAGREE"
                    row["notes"].add(f"joiner {joiner} changed the leader to {after}")
            row["verdicts"].append(verdict)
            row["validation"].append(v.text())
            row["notes"] |= set(er.episode.notes)
    seconds = time.monotonic() - t
    return {"scenario": scenario.name, "seconds": seconds,
            "episodes": [rows[i] for i in sorted(rows)]}


def _status(result: dict) -> int:
    code = EXIT_OK
    for row in result["episodes"]:
        if "DISAGREE" in row["verdicts"] or any("no matching model step" in v
                                               for v in row["validation"]) or \
                any("outside the exact set" in n for n in row["notes"]):
            return EXIT_VIOLATION
        if "inconclusive" in row["verdicts"] or any(v.startswith("NOT") for v in
                                                     row["validation"]):
            code = EXIT_INCOMPLETE
    return code


def _fmt(s: set) -> str:
    return "{" + ",".join(map(str, sorted(s))) + "}"


@click.command()
@click.argument("names", nargs=-1)
@click.option("--runs", default=1, show_default=True, type=click.IntRange(1, 50),
              help="Repeat each scenario this many times on a fresh ensemble.")
@click.option("--walks", default=200, show_default=True, type=click.IntRange(1, 100000),
              help="Seeded random walks of the model per episode (witnesses).")
@click.option("--validate-states", default=60000, show_default=True,
              type=click.IntRange(100, 10_000_000),
              help="State budget of the trace-validation search per episode.")
@click.option("--search-states", default=150_000, show_default=True,
              type=click.IntRange(0, 100_000_000),
              help="State budget of the exhaustive leader-set search per episode.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def conform(names: tuple[str, ...], runs: int, walks: int, validate_states: int,
            search_states: int, as_json: bool) -> int:
    """Check the model against a real ZooKeeper 3.8 ensemble on 127.0.0.1.

    NAMES selects scenarios (default: all). Exit 0 when every real leader is a model
    leader and every election log is explained, 1 on a disagreement, 3 when a bound left a
    check inconclusive, 2 on bad input.
    """
    scenarios = select(names)
    if missing := missing_install():
        raise InputError(f"ZooKeeper is not installed (missing {', '.join(missing)}); "
                         "run 'make system'")
    results = []
    for scenario in scenarios:
        result = check_scenario(scenario, runs, walks, validate_states, search_states)
        results.append(result)
        if not as_json:
            for row in result["episodes"]:
                real = ", ".join(f"{k}x{v}" for k, v in sorted(row["real"].items()))
                unknown = (" exact" if row["exact"] and row["verdicts"] else
                           f" ?{_fmt(row['unknown'])}" if row["unknown"] else "")
                click.echo(f"{row['scenario']:<24} #{row['episode']} predicted "
                           f"{_fmt(row['predicted'])}{unknown:<8} real [{real}] "
                           f"{'/'.join(sorted(set(row['verdicts'])))}")
                for text in sorted(row["search"]):
                    click.echo(f"{'':<27}leader set: {text}")
                for v in sorted(set(row["validation"])):
                    click.echo(f"{'':<27}validation: {v}")
                for note in sorted(row["notes"]):
                    click.echo(f"{'':<27}note: {note}")
            click.echo(f"{'':<27}({result['seconds']:.1f} s)")
    codes = [_status(r) for r in results]
    code = max(codes, default=EXIT_OK) if EXIT_VIOLATION not in codes else EXIT_VIOLATION
    if as_json:
        for result in results:
            for row in result["episodes"]:
                for key in ("predicted", "unknown", "notes", "search"):
                    row[key] = sorted(row[key])
                row["real"] = dict(row["real"])
        click.echo(json.dumps(envelope("conform", code, scenarios=results), indent=2))
    return code
