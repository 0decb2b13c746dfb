"""``zkcheck check specs/``: re-prove every regression spec and compare the outcomes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from zkcheck.cli import EXIT_OK, EXIT_VIOLATION
from zkcheck.errors import InputError
from zkcheck.outpaths import announce, check_output_file
from zkcheck.specs import Outcome, Spec, find_specs, record_count, run_spec


def _junit(outcomes: list[Outcome], path: Path) -> None:
    suite = ET.Element("testsuite", name="zkcheck-specs", tests=str(len(outcomes)),
                       failures=str(sum(not o.passed for o in outcomes)),
                       time=f"{sum(o.seconds for o in outcomes):.3f}")
    for outcome in outcomes:
        case = ET.SubElement(suite, "testcase", classname="specs", name=outcome.spec.name,
                             time=f"{outcome.seconds:.3f}")
        if not outcome.passed:
            failure = ET.SubElement(case, "failure", message=outcome.mismatches[0])
            failure.text = "\n".join(outcome.mismatches)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _expected_text(outcome: Outcome) -> str:
    parts = []
    for prop, (status, length) in outcome.spec.expected_verdicts.items():
        parts.append(f"{prop}: {status}" + (f" ({length})" if length is not None else ""))
    return "\n".join(parts)


def _got_text(outcome: Outcome) -> str:
    result = outcome.result
    parts = []
    for prop in outcome.spec.expected_verdicts:
        verdict = result.verdicts.get(prop) if result else None
        if verdict is None:
            parts.append(f"{prop}: -")
            continue
        length = f" ({len(verdict.trace)})" if verdict.trace is not None else ""
        parts.append(f"{prop}: {verdict.status}{length}")
    return "\n".join(parts)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the outcomes as JUnit XML to this file.")
@click.option("--update-counts", is_flag=True,
              help="Record the distinct-state counts found now into the spec files.")
@click.option("-k", "match", default=None, metavar="TEXT",
              help="Run only the specs whose file name contains TEXT.")
@click.option("--workers", type=int, default=None, metavar="N",
              help="Override every spec's [search] workers (0 = every core).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document on stdout instead of the table.")
@click.option("--no-progress", is_flag=True,
              help="No per-spec progress lines on stderr.")
def check(paths: tuple[Path, ...], junit: Path | None, update_counts: bool,
          match: str | None, workers: int | None, as_json: bool, no_progress: bool) -> int:
    """Run every check specification (*.toml) under PATHS (default: specs/).

    Prints a table (spec, expected, got, states, time); exits 1 on any verdict mismatch or
    distinct-state count that drifted from the recorded one, unless --update-counts records
    the new counts on purpose (verdict mismatches still fail).
    """
    if workers is not None and workers < 0:
        raise InputError(f"--workers must be >= 0, got {workers}")
    if junit is not None:
        check_output_file(junit, "--junit")
    specs = find_specs(list(paths) or [Path("specs")])
    if match:
        specs = [s for s in specs if match in s.name]
    outcomes = []
    for number, spec in enumerate(specs, start=1):
        where = f"zkcheck check [{number}/{len(specs)}] {spec.name}"
        if not no_progress:
            click.echo(f"{where}: running ({_search_text(spec)})", err=True)
        outcome = run_spec(spec, workers)
        if not no_progress:
            states = outcome.result.stats.distinct if outcome.result else 0
            click.echo(f"{where}: {'ok' if outcome.passed else 'FAIL'}, {states:,} states, "
                       f"{outcome.seconds:.1f}s", err=True)
        if update_counts and outcome.count_drift:
            record_count(spec, outcome.result.stats.distinct)
            outcome.mismatches = [m for m in outcome.mismatches if not m.startswith("distinct")]
        if update_counts and spec.expected_states is None:
            record_count(spec, outcome.result.stats.distinct)
        outcomes.append(outcome)
    failed = [o for o in outcomes if not o.passed]
    if junit is not None:
        _junit(outcomes, junit)
        announce(junit)
    code = EXIT_VIOLATION if failed else EXIT_OK
    if as_json:
        from zkcheck.schema import dumps, envelope

        click.echo(dumps(envelope("check", code, passed=len(outcomes) - len(failed),
                                  failed=len(failed),
                                  specs=[_outcome_dict(o) for o in outcomes])))
        return code
    table = Table(title=f"zkcheck check: {len(outcomes)} specs", show_lines=True)
    for column in ("spec", "expected", "got", "states", "time", "ok"):
        table.add_column(column, justify="right" if column in ("states", "time") else "left")
    for outcome in outcomes:
        states = outcome.result.stats.distinct if outcome.result else 0
        recorded = outcome.spec.expected_states
        was = "" if recorded in (None, states) else f"\n(was {recorded:,})"
        states_text = f"{states:,}{was}"
        table.add_row(outcome.spec.name, _expected_text(outcome), _got_text(outcome),
                      states_text, f"{outcome.seconds:.1f}s",
                      "ok" if outcome.passed else "FAIL\n" + "\n".join(outcome.mismatches))
    Console(width=160).print(table)
    click.echo(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return code


def _search_text(spec: Spec) -> str:
    bounds = spec.bounds
    parts = [spec.strategy]
    if bounds.max_depth is not None:
        parts.append(f"depth {bounds.max_depth}")
    if bounds.max_states is not None:
        parts.append(f"max {bounds.max_states:,} states")
    if spec.expected_states is not None:
        parts.append(f"{spec.expected_states:,} states expected")
    return ", ".join(parts)


def _outcome_dict(outcome: Outcome) -> dict[str, Any]:
    """One spec's outcome for the JSON document: what it expected, what came out."""
    result = outcome.result
    got = {}
    for prop in outcome.spec.expected_verdicts:
        verdict = result.verdicts.get(prop) if result else None
        got[prop] = None if verdict is None else {
            "status": verdict.status,
            "length": len(verdict.trace) if verdict.trace is not None else None}
    return {
        "name": outcome.spec.name, "path": str(outcome.spec.path),
        "description": outcome.spec.description, "passed": outcome.passed,
        "mismatches": outcome.mismatches, "seconds": round(outcome.seconds, 3),
        "expected": {prop: {"status": status, "length": length} for prop, (status, length)
                     in outcome.spec.expected_verdicts.items()},
        "got": got,
        "expected_distinct_states": outcome.spec.expected_states,
        "distinct_states": result.stats.distinct if result else None,
        "generated_states": result.stats.generated if result else None,
    }
