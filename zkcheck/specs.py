"""Check specifications: one TOML file per regression case, and their runner.

A spec names a model and its options, the search and its bounds, the properties, and
what must come out: a verdict per property (optionally the exact trace length) and the
exact number of distinct states. Example::

    description = "ZOOKEEPER-1419: the vote order is not an order"
    model = "fle"                       # or a toy model such as "grid:3,4"

    [options]                           # the FLE options of `zkcheck explore`
    servers = 3
    variant_flags = ["vote_order_1419"]

    [search]                            # all optional
    strategy = "bfs"                    # bfs | dfs | simulate (random walks, see below)
    depth = 40
    max_states = 2000000
    seconds = 600
    properties = ["Leadership", "EventuallyElected"]
    workers = 2                         # partitioned breadth-first search (0 = all cores)
    por = false                         # partial-order reduction

    [expect]
    distinct_states = 12345             # recorded; --update-counts rewrites it
    [expect.verdicts]
    Leadership = "holds"
    EventuallyElected = { status = "violated", length = 41 }

A team's own invariants and witnesses, without editing zkcheck: functions of a Python
file (path relative to the spec), each taking a state and returning a bool; its docstring
is the property's statement. Name them under ``[search] properties`` or ``[expect]``::

    [properties]
    file = "team_checks.py"
    invariants = ["at_most_one_leader_per_epoch"]
    witnesses = ["someone_leads"]

``model`` may also be your own model, ``"package.module:Class"`` or ``"file.py:Class"``
(a file path relative to the spec; see docs/models.md).

With ``strategy = "simulate"`` the spec is a regression proof that sampling still finds a
bug: ``walks`` and ``seed`` are required, ``depth`` is steps per walk (default 100), and
``scheduler`` (uniform | per-server | pct), ``change_points`` and ``swarm`` are optional.
Sampling never proves a property, so such a spec may expect only "violated" (the length is
that of the shortened trace), "witness found", or "not violated" (in these walks: the
fixed twin of a sampled bug, run on the same seed and walks).
"""

from __future__ import annotations

import re
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkcheck.api import build_model
from zkcheck.errors import InputError
from zkcheck.explorer import Bounds, Result
from zkcheck.explorer.backends import workers_for
from zkcheck.explorer.liveness import check_liveness
from zkcheck.explorer.parallel import make_search
from zkcheck.explorer.prefixed import Prefixed, PrefixError
from zkcheck.explorer.schedulers import SCHEDULERS
from zkcheck.explorer.walks import WalkSettings
from zkcheck.outpaths import announce
from zkcheck.spec_validation import SpecProblem, check_model, check_properties, check_structure

_SIMULATE_KEYS = {"walks", "seed", "scheduler", "change_points", "swarm"}
_SIMULATE_EXPECTS = ("violated", "witness found", "not violated")
_PROPERTY_KEYS = {"file", "invariants", "witnesses"}


@dataclass
class Spec:
    path: Path
    description: str
    model: str
    options: dict[str, Any]
    strategy: str
    bounds: Bounds
    properties: list[str] | None
    check_deadlock: bool
    expected_verdicts: dict[str, tuple[str, int | None]]
    expected_states: int | None
    workers: int = 1
    por: bool = False
    simulation: dict[str, Any] | None = None  # walks, seed, ... for strategy "simulate"
    prefix: list[str] | None = None  # action labels: the search starts where they lead
    extra_properties: dict[str, Any] | None = None  # [properties]: file, invariants, ...

    @property
    def name(self) -> str:
        return self.path.stem


@dataclass
class Outcome:
    spec: Spec
    result: Result | None
    seconds: float
    mismatches: list[str] = field(default_factory=list)
    count_drift: bool = False

    @property
    def passed(self) -> bool:
        return not self.mismatches


def load_spec(path: Path) -> Spec:
    """Parse and validate one spec; InputError with the file name on any problem."""
    try:
        text = path.read_text()
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        where = f"{path}:{at.group(1)}" if at else str(path)
        raise InputError(f"{where}: {str(exc).replace(at.group(0), '').strip() if at else exc}"
                         ) from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    problem = SpecProblem(path, text)
    check_structure(problem, data)
    search = data.get("search", {})
    expect = data.get("expect", {})
    verdicts: dict[str, tuple[str, int | None]] = {
        prop: (value, None) if isinstance(value, str) else (value["status"], value.get("length"))
        for prop, value in expect.get("verdicts", {}).items()}
    if not verdicts:
        raise InputError(f"{path}: [expect.verdicts] is empty: a spec must expect something")
    try:
        bounds = Bounds(search.get("depth"), search.get("max_states"), search.get("seconds"))
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from None
    strategy = search.get("strategy", "bfs")
    if strategy not in ("bfs", "dfs", "simulate"):
        raise InputError(f"{path}: search.strategy must be bfs, dfs or simulate, not "
                         f"{strategy!r}")
    simulation = _simulation_settings(path, search, verdicts) if strategy == "simulate" else None
    if strategy != "simulate" and set(search) & _SIMULATE_KEYS:
        key = sorted(set(search) & _SIMULATE_KEYS)[0]
        raise InputError(f"{path}: [search] {key} applies only to strategy = \"simulate\"")
    workers = search.get("workers", 1)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        raise InputError(f"{path}: search.workers must be a whole number >= 0")
    por = search.get("por", False)
    if not isinstance(por, bool):
        raise InputError(f"{path}: search.por must be true or false")
    prefix = search.get("prefix")
    if prefix is not None and (strategy == "simulate" or not isinstance(prefix, list)
                               or not all(isinstance(step, str) for step in prefix)):
        raise problem.error("search.prefix must be a list of action labels (bfs or dfs)",
                            "search", "prefix")
    model_spec = _model_spec(path, data.get("model", "fle"))
    model = check_model(problem, data, model_spec)
    if prefix:
        try:
            Prefixed(model, prefix)  # replayed now: a step that is not enabled fails here
        except PrefixError as exc:
            raise problem.error(f"search.prefix: {exc}", "search", "prefix") from None
    extra = _extra_properties(path, data.get("properties"))
    added = set() if extra is None else set(extra["invariants"]) | set(extra["witnesses"])
    check_properties(problem, {p.name for p in model.properties()} | added, data)
    return Spec(
        path=path,
        description=data.get("description", ""),
        model=model_spec,
        options=data.get("options", {}),
        strategy=strategy,
        bounds=bounds,
        properties=search.get("properties"),
        check_deadlock=bool(search.get("check_deadlock", False)),
        expected_verdicts=verdicts,
        expected_states=expect.get("distinct_states"),
        workers=workers,
        por=por,
        simulation=simulation,
        extra_properties=extra,
        prefix=prefix,
    )


def _model_spec(path: Path, model: str) -> str:
    """A user's model file is named relative to the spec file."""
    from zkcheck.user_model import is_user_model

    source, _, attr = model.rpartition(":")
    if is_user_model(model) and source.endswith(".py") and not Path(source).is_absolute():
        return f"{path.parent / source}:{attr}"
    return model


def _extra_properties(path: Path, table: Any) -> dict[str, Any] | None:
    """The ``[properties]`` table, checked (the file is imported when the spec runs)."""
    if table is None:
        return None
    if not isinstance(table, dict) or set(table) - _PROPERTY_KEYS:
        unknown = sorted(set(table) - _PROPERTY_KEYS) if isinstance(table, dict) else ["?"]
        raise InputError(f"{path}: unknown [properties] key {unknown[0]!r} (file, "
                         "invariants, witnesses)")
    if not isinstance(table.get("file"), str):
        raise InputError(f"{path}: [properties] needs file = \"some_file.py\"")
    lists = {}
    for key in ("invariants", "witnesses"):
        names = table.get(key, [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InputError(f"{path}: [properties] {key} must be a list of function names")
        lists[key] = names
    return {"file": path.parent / table["file"], **lists}


def spec_model(spec: Spec) -> Any:
    """The spec's model, with the property functions its ``[properties]`` names, starting
    where its ``[search] prefix`` leads (``zkcheck.explorer.prefixed``)."""
    from zkcheck.user_model import extended_model, property_functions

    model = build_model(spec.model, **spec.options)
    extra = spec.extra_properties
    if extra is not None:
        where = str(spec.path)
        props = property_functions(extra["file"], extra["invariants"], extra["witnesses"],
                                   where)
        model = extended_model(model, props, where)
    if spec.prefix:  # replayed once already when the spec was loaded (load_spec)
        model = Prefixed(model, spec.prefix)
    return model


def _simulation_settings(path: Path, search: dict[str, Any],
                         verdicts: dict[str, tuple[str, int | None]]) -> dict[str, Any]:
    """The walk settings of a ``simulate`` spec; InputError on what sampling cannot show."""
    for key in ("walks", "seed"):
        if not isinstance(search.get(key), int) or search[key] < (1 if key == "walks" else 0):
            raise InputError(f"{path}: strategy = \"simulate\" needs an integer {key} "
                             f"(>= {1 if key == 'walks' else 0})")
    if "depth" in search and search["depth"] < 1:
        raise InputError(f"{path}: search.depth (steps per walk) must be >= 1")
    for key in ("max_states", "seconds"):
        if key in search:
            raise InputError(f"{path}: [search] {key} does not apply to simulate "
                             "(walks and depth bound it)")
    for prop, (status, _) in verdicts.items():
        if status not in _SIMULATE_EXPECTS:
            raise InputError(f"{path}: expect.verdicts.{prop} = {status!r}: sampling can only "
                             "show \"violated\", \"witness found\" or \"not violated\" (in "
                             "these walks), never that a property holds")
    scheduler = search.get("scheduler", "uniform")
    if scheduler not in SCHEDULERS:
        raise InputError(f"{path}: search.scheduler must be one of {', '.join(SCHEDULERS)}")
    change_points = search.get("change_points", 2)
    if not isinstance(change_points, int) or change_points < 0:
        raise InputError(f"{path}: search.change_points must be an integer >= 0")
    return {"walks": search["walks"], "seed": search["seed"], "scheduler": scheduler,
            "change_points": change_points, "swarm": bool(search.get("swarm", False))}


def find_specs(paths: list[Path]) -> list[Spec]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*.toml")))
        elif path.exists():
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    if not files:
        raise InputError("no spec files (*.toml) found")
    return [load_spec(f) for f in files]


def run_spec(spec: Spec, workers: int | None = None) -> Outcome:
    """Run one spec and compare everything it expects (``workers``: overrides the spec's
    ``[search] workers``)."""
    started = time.perf_counter()
    properties = spec.properties or sorted(spec.expected_verdicts)
    if spec.simulation is not None:
        result = _simulate(spec, properties)
    else:
        model = spec_model(spec)
        try:
            search = make_search(model, workers=workers_for(
                spec.workers if workers is None else workers), search=spec.strategy,
                bounds=spec.bounds, properties=properties, check_deadlock=spec.check_deadlock,
                liveness=check_liveness, por=spec.por)
        except KeyError as exc:
            raise InputError(f"{spec.path}: {exc.args[0]}") from None
        except ValueError as exc:
            raise InputError(f"{spec.path}: {exc}") from None
        result = search.run()
    outcome = Outcome(spec, result, time.perf_counter() - started)
    for prop, (status, length) in spec.expected_verdicts.items():
        verdict = result.verdicts.get(prop)
        if verdict is None:
            outcome.mismatches.append(f"{prop}: not checked")
            continue
        if verdict.status != status:
            outcome.mismatches.append(f"{prop}: expected {status!r}, got {verdict.status!r}")
        elif length is not None and (verdict.trace is None or len(verdict.trace) != length):
            got = len(verdict.trace) if verdict.trace is not None else None
            outcome.mismatches.append(f"{prop}: expected a trace of {length} steps, got {got}")
    if spec.expected_states is not None and result.stats.distinct != spec.expected_states:
        outcome.count_drift = True
        outcome.mismatches.append(f"distinct states drifted: recorded {spec.expected_states}, "
                                  f"got {result.stats.distinct}")
    return outcome


def _simulate(spec: Spec, properties: list[str]) -> Result:
    from zkcheck.simulation import run_simulation

    sim = spec.simulation or {}
    if spec.extra_properties is not None:
        raise InputError(f"{spec.path}: [properties] applies to bfs and dfs, not to simulate")
    settings = WalkSettings(depth=spec.bounds.max_depth or 100, scheduler=sim["scheduler"],
                            change_points=sim["change_points"], swarm=sim["swarm"],
                            properties=tuple(properties))
    try:
        return run_simulation(spec.model, spec.options, settings, sim["seed"],
                              walks=sim["walks"]).result
    except InputError as exc:
        raise InputError(f"{spec.path}: {exc}") from None


_COUNT_LINE = re.compile(r"^(\s*distinct_states\s*=\s*)(\d+)(.*)$", re.MULTILINE)


def record_count(spec: Spec, count: int) -> None:
    """Write ``count`` as the spec's expected distinct-state count (``--update-counts``)."""
    text = spec.path.read_text()
    if _COUNT_LINE.search(text):
        text = _COUNT_LINE.sub(lambda m: f"{m.group(1)}{count}{m.group(3)}", text, count=1)
    elif re.search(r"^\[expect\]\s*$", text, re.MULTILINE):
        text = re.sub(r"^\[expect\]\s*$", f"[expect]\ndistinct_states = {count}", text,
                      count=1, flags=re.MULTILINE)
    else:
        text = text.rstrip("\n") + f"\n\n[expect]\ndistinct_states = {count}\n"
    spec.path.write_text(text)
    announce(spec.path)
