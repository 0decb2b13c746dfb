"""The reach options of ``explore`` and ``check``: workers, Ray, spill, checkpoints.

``reach_options`` adds them to a click command; ``build_search`` turns their values and
the search options into the search object (``zkcheck.explorer.parallel.make_search``),
raising ``InputError`` with one line for anything unusable: a negative worker count, a Ray
address nobody answers at, a checkpoint that is missing, foreign or damaged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zkcheck.errors import InputError
from zkcheck.explorer.backends import workers_for
from zkcheck.explorer.checkpoint import CheckpointError, read_manifest
from zkcheck.explorer.parallel import MEMORY_STATES, make_search
from zkcheck.explorer.search import Search


def reach_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--workers", type=int, default=1, show_default=True, metavar="N",
                     help="Partition breadth-first search by fingerprint over N worker "
                          "processes (0 = every core; with --ray, N Ray actors). Counts, "
                          "verdicts and traces are the same for every N."),
        click.option("--ray", "ray_address", default=None, metavar="ADDRESS",
                     help="Run the shards as Ray actors: 'auto' joins the cluster started "
                          "with `ray start`, 'local' starts a Ray instance for this run, or "
                          "HOST:PORT of a cluster's head."),
        click.option("--spill", type=click.Path(file_okay=False, path_type=Path),
                     default=None, metavar="DIR",
                     help="Directory for breadth-first level files (default: a temporary "
                          "directory, removed at the end)."),
        click.option("--level-memory", type=int, default=MEMORY_STATES, show_default=True,
                     metavar="STATES",
                     help="States of one breadth-first level each worker keeps in memory, "
                          "packed (11-27 bytes per FLE state); the rest of the level is "
                          "spilled to disk, packed the same way."),
        click.option("--checkpoint", "checkpoint_dir", default=None, metavar="DIR",
                     type=click.Path(file_okay=False, path_type=Path),
                     help="Write a resumable checkpoint into DIR after every completed "
                          "level (and on Ctrl-C, SIGTERM or the time bound)."),
        click.option("--checkpoint-every", type=float, default=0.0, show_default=True,
                     metavar="SECONDS",
                     help="At most one checkpoint per this many seconds (levels between "
                          "are not checkpointed)."),
        click.option("--resume", "resume_dir", default=None, metavar="DIR",
                     type=click.Path(file_okay=False, path_type=Path),
                     help="Continue the run checkpointed in DIR, with any --workers or "
                          "backend; model options default to the checkpoint's."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def checkpoint_identity(directory: Path) -> dict:
    """The identity recorded in a checkpoint (InputError if it cannot be resumed)."""
    try:
        return read_manifest(directory)["identity"]
    except CheckpointError as exc:
        raise InputError(str(exc)) from None


def configured_model(spec: str, options: dict[str, Any], symmetry: str) -> Any:
    """The model of a run with its symmetry group: a picklable recipe for Ray shards."""
    from zkcheck.api import build_model

    model = build_model(spec, **options)
    if symmetry != "none":
        model._group = model.symmetry_group(symmetry)
    return model


def build_search(model: Any, *, workers: int, ray_address: str | None, spill: Path | None,
                 level_memory: int, checkpoint_dir: Path | None, checkpoint_every: float,
                 resume_dir: Path | None, identity: dict, **search: Any) -> Search:
    """The search for these options (see the module docstring)."""
    if workers < 0:
        raise InputError(f"--workers must be >= 0, got {workers}")
    if level_memory < 1:
        raise InputError(f"--level-memory must be >= 1, got {level_memory}")
    if checkpoint_every < 0:
        raise InputError(f"--checkpoint-every must be >= 0, got {checkpoint_every}")
    if resume_dir is not None:
        try:
            read_manifest(resume_dir, identity)
        except CheckpointError as exc:
            raise InputError(str(exc)) from None
        checkpoint_dir = checkpoint_dir or resume_dir
    backend: Any = "processes"
    if ray_address is not None:
        from zkcheck.explorer.ray_backend import RayUnavailable, ray_backend

        try:
            backend = ray_backend(ray_address)
        except RayUnavailable as exc:
            raise InputError(str(exc)) from None
        workers = workers or backend.cluster_cpus()
    else:
        workers = workers_for(workers)
    if ray_address is not None:
        search["model_factory"] = functools.partial(
            configured_model, identity["model"], identity["options"], identity["symmetry"])
    reach = {"backend": backend, "spill": spill, "memory_states": level_memory,
             "checkpoint": checkpoint_dir, "checkpoint_every": checkpoint_every,
             "resume": resume_dir, "identity": identity}
    try:
        return make_search(model, workers=workers, **reach, **search)
    except ValueError as exc:
        raise InputError(str(exc)) from None
