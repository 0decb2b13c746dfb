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
                   search_states: int = 150_000, nonatomic_replies: bool = False) -> dict:
    """Run ``scenario`` ``runs`` times; one row per episode with predictions and verdicts
    (``nonatomic_replies``: trace validation with the WorkerReceiver's replies as steps of
    their own, ``Bounds.nonatomic_replies``)."""
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
            if er.leader is None:  # no quorum was meant to form: nothing to compare
                continue
            try:
                p = predict(er.episode, walks=walks, max_states=search_states)
            except RuntimeError as contradiction:  # two model analyses disagree: a finding
                row["notes"].add(f"internal contradiction: {contradiction}")
                row["verdicts"].append("DISAGREE")
                row["validation"].append("not run (internal contradiction)")
                continue
            v = validate(er.episode, er.leader, run.events, er.t0, er.t_stable, run.journal,
                         max_states=validate_states, nonatomic_replies=nonatomic_replies)
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
    return {"scenario": scenario.name, "seconds": seconds, "runs": runs,
            "episodes": [rows[i] for i in sorted(rows)]}


def _check_problems(row: dict, run: int) -> tuple[list[str], list[str]]:
    """(disagreements, inconclusive reasons) of one run of one episode row."""
    verdict, validation = row["verdicts"][run], row["validation"][run]
    bad, open_ = [], []
    if verdict == "DISAGREE":
        bad.append("real leader outside the model's set" + "".join(
            f" ({n})" for n in sorted(row["notes"]) if "joiner" in n or "contradiction" in n))
    elif verdict == "inconclusive":
        open_.append("real leader in the bracket's unknown part "
                     f"{_fmt(row['unknown'])}: neither found nor excluded")
    if "no matching model step" in validation:
        bad.append("election log not explained (no model path)")
    elif validation.startswith("NOT"):
        open_.append("election log " + validation.split(":", 1)[0].removeprefix("NOT ")
                     .replace("explained after", "not explained after"))
    bad += [n for n in sorted(row["notes"]) if "outside the exact set" in n]
    return bad, open_


def summarize(results: list[dict]) -> dict:
    """The closing summary: episode runs agreed (real leader in the model's set), explained
    (log replayed by a model path), inconclusive, disagreed; the exit code and why."""
    counts = {"checked": 0, "agreed": 0, "explained": 0, "inconclusive": 0, "disagreed": 0,
              "not_checked": 0}
    disagreements: list[str] = []
    inconclusive: list[str] = []
    for result in results:
        for row in result["episodes"]:
            where = f"{row['scenario']} #{row['episode']}"
            counts["not_checked"] += result["runs"] - len(row["verdicts"])
            for run in range(len(row["verdicts"])):
                counts["checked"] += 1
                counts["agreed"] += row["verdicts"][run] == "agree"
                counts["explained"] += row["validation"][run].startswith("explained")
                bad, open_ = _check_problems(row, run)
                disagreements += [f"{where}: {b}" for b in bad]
                inconclusive += [f"{where}: {o}" for o in open_]
                counts["disagreed"] += bool(bad)
                counts["inconclusive"] += bool(open_) and not bad
    if disagreements:
        code = EXIT_VIOLATION
        why = (f"exit {code}: {counts['disagreed']} episode run(s) disagree with the model")
    elif inconclusive:
        code = EXIT_INCOMPLETE
        why = (f"exit {code}: no disagreement, but {counts['inconclusive']} episode run(s) "
               "are inconclusive (a bound or a known modelling limit left a check open)")
    else:
        code = EXIT_OK
        why = (f"exit {code}: every real leader is one the model can establish and every "
               "election log is explained by a model path")
    return {**counts, "exit_code": code, "why": why, "disagreements": disagreements,
            "inconclusive_reasons": inconclusive}


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
@click.option("--nonatomic-replies", is_flag=True, default=False,
              help="Validate election logs against the model whose WorkerReceiver replies "
                   "are steps of their own (see 'zkcheck explore --help'): stale replies "
                   "are explained instead of being a known modelling limit.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: the scenarios and the summary.")
def conform(names: tuple[str, ...], runs: int, walks: int, validate_states: int,
            search_states: int, nonatomic_replies: bool, as_json: bool) -> int:
    """Check the model against a real ZooKeeper 3.8 ensemble on 127.0.0.1.

    NAMES selects scenarios (default: all; an unknown name lists them; see
    docs/conformance.md: crashes, restarts, paused servers, observers). Ends with a
    summary: episode runs agreed (real leader in the model's set), explained (election log
    replayed by a model path), inconclusive and disagreed, and why the exit code is what it
    is. Exit 0 when every real leader is a model leader and every election log is
    explained, 1 on a disagreement, 3 when a bound or a known modelling limit left a check
    inconclusive, 2 on bad input. With --json, one object: {"scenarios": [...],
    "summary": {...}}.
    """
    scenarios = select(names)
    if missing := missing_install():
        raise InputError(f"ZooKeeper is not installed (missing {', '.join(missing)}); "
                         "run 'make system'")
    results = []
    for scenario in scenarios:
        result = check_scenario(scenario, runs, walks, validate_states, search_states,
                                nonatomic_replies)
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
    summary = summarize(results)
    if as_json:
        for result in results:
            for row in result["episodes"]:
                for key in ("predicted", "unknown", "notes", "search"):
                    row[key] = sorted(row[key])
                row["real"] = dict(row["real"])
        click.echo(json.dumps(envelope("conform", summary["exit_code"], scenarios=results,
                                       summary=summary), indent=2))
        return summary["exit_code"]
    click.echo(f"summary: {summary['checked']} episode run(s) checked: {summary['agreed']} "
               f"agreed, {summary['explained']} explained, {summary['inconclusive']} "
               f"inconclusive, {summary['disagreed']} disagreed"
               + (f" ({summary['not_checked']} without a leader, not compared)"
                  if summary["not_checked"] else ""))
    for line in summary["disagreements"]:
        click.echo(f"  disagreement: {line}")
    for line in summary["inconclusive_reasons"]:
        click.echo(f"  inconclusive: {line}")
    click.echo(summary["why"])
    return summary["exit_code"]
