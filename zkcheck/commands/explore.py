"""``zkcheck explore``: exhaustive search of the FLE model (or a toy model)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from zkcheck.api import build_model
from zkcheck.cli import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATION
from zkcheck.errors import InputError
from zkcheck.explorer import Bounds
from zkcheck.explorer.liveness import check_liveness
from zkcheck.explorer.parallel import SpillFull
from zkcheck.explorer.por import PorError
from zkcheck.explorer.symmetry import check_symmetry as check_symmetry_of
from zkcheck.fle_options import fle_options, model_option, model_options
from zkcheck.outpaths import announce, check_output_dir
from zkcheck.progress import progress_line
from zkcheck.reach_options import build_search, checkpoint_identity, reach_options
from zkcheck.render.outputs import witness_names, write_outputs
from zkcheck.report import result_text, to_json


def _bounds(depth: int | None, max_states: int | None, seconds: float | None) -> Bounds:
    """The search bounds; a bound that would stop the search before it starts is bad input
    (``--depth 0`` is not: it checks the initial states)."""
    if depth is not None and depth < 0:
        raise InputError(f"--depth must be >= 0, got {depth}")
    if max_states is not None and max_states < 1:
        raise InputError(f"--max-states must be >= 1, got {max_states}")
    if seconds is not None and seconds <= 0:
        raise InputError(f"--time must be > 0 seconds, got {seconds}")
    return Bounds(max_depth=depth, max_states=max_states, max_seconds=seconds)


@click.command()
@model_option
@fle_options
@click.option("--depth", type=int, default=None, help="Explore states up to this many steps.")
@click.option("--max-states", type=int, default=None, help="Stop after this many distinct states.")
@click.option("--time", "seconds", type=float, default=None, help="Stop after this many seconds.")
@click.option("--search", type=click.Choice(["bfs", "dfs"]), default="bfs", show_default=True,
              help="bfs finds shortest counterexamples; dfs uses less frontier memory.")
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Check only this property (repeatable). Default: all of the model's.")
@click.option("--check-deadlock", is_flag=True, help="Report states without enabled actions.")
@click.option("--stop-at-first", is_flag=True, help="Stop at the first violated invariant.")
@click.option("--stop-at-witness", "stop_witnesses", multiple=True, metavar="NAME",
              help="Stop at the end of the breadth-first level in which this witness (and "
                   "every other one named so) is found, e.g. LeaderEstablished (repeatable).")
@click.option("--require-complete", is_flag=True,
              help="Exit 3 when a bound stopped the search before every state was explored.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write trace.json, trace.svg, trace.png and report.html per violation "
                   "(and per --witness) into DIR/<property>/.")
@click.option("--witness", "witnesses", multiple=True, metavar="NAME",
              help="Also write this witness's trace under --out (repeatable; 'all' = every "
                   "witness), e.g. one shortest election.")
@click.option("--no-progress", is_flag=True, help="No progress line on stderr.")
@click.option("--por/--no-por", "por", default=None,
              help="Partial-order reduction (default: on for breadth-first search without "
                   "--depth; with a depth bound the reduced search must look deeper, so it "
                   "is off unless --por). Verdicts and counterexample lengths are those of "
                   "full search either way.")
@click.option("--check-independence", type=int, default=0, metavar="K",
              help="Debug POR: re-check both orders of the ample action and every other "
                   "enabled action on every K-th reduced state, and again one step later "
                   "(paths of two actions avoiding it); exit 1 on a failure.")
@click.option("--symmetry", type=click.Choice(["none", "observers", "servers"]),
              default="none", show_default=True,
              help="Symmetry reduction: observers = permute observers (sound); servers = "
                   "permute all servers (NOT a symmetry of FLE: always checked, rejected).")
@click.option("--check-symmetry", is_flag=True,
              help="Before exploring, check on explored states that the symmetry is an "
                   "automorphism (successors and properties); exit 1 if not.")
@reach_options
def explore(
    model_spec: str,
    depth: int | None,
    max_states: int | None,
    seconds: float | None,
    search: str,
    properties: tuple[str, ...],
    check_deadlock: bool,
    stop_at_first: bool,
    stop_witnesses: tuple[str, ...],
    require_complete: bool,
    as_json: bool,
    out_dir: Path | None,
    witnesses: tuple[str, ...],
    no_progress: bool,
    por: bool | None,
    check_independence: int,
    symmetry: str,
    check_symmetry: bool,
    workers: int,
    ray_address: str | None,
    spill: Path | None,
    level_memory: int,
    checkpoint_dir: Path | None,
    checkpoint_every: float,
    resume_dir: Path | None,
    **fle: Any,
) -> int:
    """Explore every interleaving up to the bounds and check the properties.

    The text report names the model and scenario, the bounds and which of them stopped the
    search, a verdict per property, statistics, and a trace for each violation and witness.
    """
    context = click.get_current_context()
    given = {name for name in context.params
             if context.get_parameter_source(name) is not ParameterSource.DEFAULT}
    if resume_dir is not None:
        recorded = checkpoint_identity(resume_dir)
        model_spec, fle, properties, por, symmetry = _from_checkpoint(
            recorded, given, model_spec, fle, properties, por, symmetry)
        if depth is None and "depth" not in given:
            depth = recorded.get("depth")
    bounds = _bounds(depth, max_states, seconds)
    options = model_options(model_spec, fle)
    for option, directory in (("--out", out_dir), ("--checkpoint", checkpoint_dir),
                              ("--spill", spill)):
        if directory is not None:
            check_output_dir(directory, option)
    if check_independence < 0:
        raise InputError(f"--check-independence must be >= 0, got {check_independence}")
    model = build_model(model_spec, **options)
    wanted = witness_names(model, witnesses)
    stop_at_witness = witness_names(model, stop_witnesses, "--stop-at-witness")
    if properties and stop_at_witness:
        properties = tuple(dict.fromkeys(properties + tuple(stop_at_witness)))
    if properties and wanted:
        properties = tuple(dict.fromkeys(properties + tuple(wanted)))
    if symmetry != "none":
        if not hasattr(model, "symmetry_group"):
            raise InputError(f"model {model_spec!r} declares no symmetry")
        model._group = model.symmetry_group(symmetry)
        if check_symmetry or symmetry == "servers":
            problem = check_symmetry_of(model, model._group, max_depth=depth)
            if problem is not None:
                click.echo(f"zkcheck: symmetry rejected: {problem}", err=True)
                return EXIT_VIOLATION
    por_on = depth is None if por is None else por
    identity = {"model": model_spec, "options": options,
                "properties": list(properties) or None, "por": por_on,
                "symmetry": symmetry, "check_deadlock": check_deadlock, "depth": depth}
    try:
        runner = build_search(
            model, workers=workers, ray_address=ray_address, spill=spill,
            level_memory=level_memory, checkpoint_dir=checkpoint_dir,
            checkpoint_every=checkpoint_every, resume_dir=resume_dir, identity=identity,
            search=search, bounds=bounds, properties=properties or None,
            check_deadlock=check_deadlock, stop_at_first=stop_at_first,
            stop_at_witness=stop_at_witness,
            liveness=check_liveness, por=por_on, check_independence=check_independence,
            symmetry=symmetry != "none")
    except KeyError as exc:
        raise InputError(exc.args[0]) from None
    with progress_line(not no_progress and not as_json, depth) as callback:
        runner.progress = callback
        try:
            result = runner.run()
        except PorError as exc:
            click.echo(f"zkcheck: independence check failed: {exc}", err=True)
            return EXIT_VIOLATION
        except SpillFull as exc:
            kept = (f"; the last checkpoint in {runner.checkpoint_dir} is kept"
                    if getattr(runner, "checkpoints_written", 0) else "")
            raise InputError(f"the spill disk is full ({exc.strerror or exc}); the run "
                             f"stopped without a verdict{kept}") from None
        finally:
            shutdown = getattr(getattr(runner, "backend_kind", None), "shutdown", None)
            if shutdown is not None:
                shutdown()
    meta = {"model": model_spec, **({"options": options} if options else {})}
    header = [f"zkcheck explore: {getattr(model, 'summary', model.name)}"]
    code = _exit_code(result, require_complete)
    click.echo(to_json(model, result, meta, "explore", code) if as_json
               else result_text(model, result, header))
    if out_dir is not None:
        write_outputs(model, result, out_dir, model_spec, options, wanted,
                      command="zkcheck " + " ".join(sys.argv[1:]),
                      trace_model=_companion_traces(model, options, result))
    if getattr(runner, "checkpoints_written", 0):
        resume = "" if result.complete else f"; continue with --resume {runner.checkpoint_dir}"
        announce(f"{runner.checkpoint_dir}/ (checkpoint of the last completed level{resume})")
    return code


def _companion_traces(model: Any, options: dict[str, Any], result: Any
                      ) -> Callable[[str], tuple[Any, dict[str, Any]]] | None:
    """Model and options of each trace, where liveness was judged on the model's liveness
    companion (FLE: the same options with fair timeouts), so that trace.json replays."""
    companion = getattr(model, "liveness_companion", None)
    chosen = companion(list(result.verdicts)) if companion is not None else None
    if chosen is None:
        return None
    other, judged = chosen
    fair = {**options, "fair_timeouts": True}
    return lambda name: (other, fair) if name in judged else (model, options)


def _exit_code(result: Any, require_complete: bool) -> int:
    if not result.ok:
        return EXIT_VIOLATION
    if not result.complete and (require_complete or any(
            b.bound == "interrupted" for b in result.bounds_hit)):
        return EXIT_INCOMPLETE
    return EXIT_OK


def _from_checkpoint(recorded: dict, given: set[str], model_spec: str, fle: dict,
                     properties: tuple[str, ...], por: bool | None, symmetry: str) -> tuple:
    """The model and search settings of a resumed run: the checkpoint's, and any given on
    the command line must agree with them (else one line, exit 2)."""
    mine = {"model": model_spec, "properties": list(properties) or None, "por": por,
            "symmetry": symmetry}
    for key, value in mine.items():
        flag = "model_spec" if key == "model" else key
        if flag in given and value != recorded.get(key):
            raise InputError(f"--{key.replace('_', '-')} {value!r} differs from the "
                             f"checkpoint's {recorded.get(key)!r}")
    recorded_options = recorded.get("options") or {}
    options = dict(fle)
    for name in fle:
        if name in given and fle[name] != recorded_options.get(name, fle[name]):
            raise InputError(f"--{name.replace('_', '-')} differs from the checkpoint's "
                             "model options")
        if name in recorded_options:
            value = recorded_options[name]
            options[name] = tuple(value) if isinstance(value, list) else value
    return (recorded.get("model", model_spec), options,
            tuple(recorded.get("properties") or ()), recorded.get("por"),
            recorded.get("symmetry", symmetry))
