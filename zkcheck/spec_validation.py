"""Validation of a check spec before anything runs: keys, options, properties, statuses.

A typo in a spec (``status = "voilated"``, a misspelt property) must not look like a
failed verdict after minutes of search: ``zkcheck check`` validates every spec first and
refuses a bad one with ``FILE:LINE: message`` and exit 2. TOML parsers give no line
numbers for values, so ``line_of`` finds a key (or a quoted value) inside its table in the
text; when it cannot, the message names the file alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from zkcheck.errors import InputError
from zkcheck.explorer import result

STATUSES = (result.HOLDS, result.HOLDS_WITHIN_BOUNDS, result.VIOLATED, result.WITNESS_FOUND,
            result.WITNESS_NOT_FOUND, result.NOT_CHECKED,
            "not violated")  # sampled specs only: no violation in these walks
TOP_KEYS = {"description", "model", "options", "search", "expect", "properties"}
SEARCH_KEYS = {"strategy", "depth", "max_states", "seconds", "properties", "check_deadlock",
               "workers", "por", "prefix", "walks", "seed", "scheduler", "change_points",
               "swarm"}
EXPECT_KEYS = {"distinct_states", "verdicts"}
VERDICT_KEYS = {"status", "length"}

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def line_of(text: str, table: str, needle: str) -> int | None:
    """The 1-based line of key ``needle`` (or of the quoted value ``"needle"``) inside
    ``[table]`` ("" = the top level; a dotted table also matches its inline form)."""
    current = ""
    key = re.compile(rf"(^|[{{,\s])(\"?){re.escape(needle)}\2\s*=")
    value = f'"{needle}"'
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).replace(" ", "")
            continue
        inside = (table.startswith(current + ".") or current == table) if current else \
            table == ""
        if inside and (key.search(line) or value in line):
            return number
    return None


class SpecProblem:
    """Builds ``InputError``s that point at a spec's file and line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text

    def error(self, message: str, table: str = "", needle: str | None = None) -> InputError:
        line = line_of(self.text, table, needle) if needle is not None else None
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        return InputError(f"{where}: {message}")

    def unknown(self, data: dict[str, Any], known: set[str], table: str) -> None:
        for key in sorted(set(data) - known):
            name = f"[{table}] key" if table else "key"
            raise self.error(f"unknown {name} {key!r} (known: {', '.join(sorted(known))})",
                             table, key)


def check_structure(problem: SpecProblem, data: dict[str, Any]) -> None:
    """Unknown keys in every table, and the shape of each expected verdict."""
    problem.unknown(data, TOP_KEYS, "")
    for table in ("options", "search", "expect"):
        if table in data and not isinstance(data[table], dict):
            raise problem.error(f"{table} must be a table ([{table}])", "", table)
    problem.unknown(data.get("search", {}), SEARCH_KEYS, "search")
    expect = data.get("expect", {})
    problem.unknown(expect, EXPECT_KEYS, "expect")
    verdicts = expect.get("verdicts", {})
    if not isinstance(verdicts, dict):
        raise problem.error("expect.verdicts must be a table", "expect", "verdicts")
    for prop, value in verdicts.items():
        status = value.get("status") if isinstance(value, dict) else value
        if isinstance(value, dict):
            problem.unknown(value, VERDICT_KEYS, f"expect.verdicts.{prop}")
            length = value.get("length")
            if length is not None and (not isinstance(length, int) or isinstance(length, bool)
                                       or length < 0):
                raise problem.error(f"expect.verdicts.{prop}: length must be a whole number "
                                    ">= 0", "expect.verdicts", prop)
        if not isinstance(status, str):
            raise problem.error(f"expect.verdicts.{prop} must be a status or a table with "
                                "a status", "expect.verdicts", prop)
        if status not in STATUSES:
            raise problem.error(f"expect.verdicts.{prop}: unknown status {status!r} (one of: "
                                f"{', '.join(STATUSES)})", "expect.verdicts", prop)


def check_properties(problem: SpecProblem, names: set[str], data: dict[str, Any]) -> None:
    """Every property the spec names must be one of the model's."""
    known = ", ".join(sorted(names))
    for prop in data.get("expect", {}).get("verdicts", {}):
        if prop not in names:
            raise problem.error(f"expect.verdicts: unknown property {prop!r} (this model's: "
                                f"{known})", "expect.verdicts", prop)
    listed = data.get("search", {}).get("properties")
    if listed is None:
        return
    if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
        raise problem.error("search.properties must be a list of property names", "search",
                            "properties")
    for prop in listed:
        if prop not in names:
            raise problem.error(f"search.properties: unknown property {prop!r} (this model's: "
                                f"{known})", "search", prop)


def check_model(problem: SpecProblem, data: dict[str, Any], model: str | None = None) -> Any:
    """Build the spec's model (``model``: its spec, a user's file already resolved against
    the spec's directory); an unknown or bad option is reported at its line."""
    from zkcheck.api import build_model

    options = data.get("options", {})
    try:
        return build_model(model or data.get("model", "fle"), **options)
    except InputError as exc:
        message = str(exc)
        culprit = next((key for key in options if repr(key) in message
                        or key.replace("_", "-") in message), None)
        if culprit is not None:
            raise problem.error(f"[options] {message}", "options", culprit) from None
        raise problem.error(message, "", "model" if "model" in message else None) from None
