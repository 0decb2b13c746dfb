"""Output paths: checked before any work starts, and every file written named on stderr.

A search can run for hours; an output directory that cannot be written must be refused at
once (exit 2), not after the search. Permission bits are not enough to know (root ignores
them, a read-only mount or /proc does not), so the check makes the directory and a probe
file for real and removes whatever it created.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from zkcheck.errors import InputError


def check_output_dir(directory: Path, option: str) -> None:
    """InputError (one line) unless ``directory`` can be created and written; leaves the
    file system as it was."""
    created: list[Path] = []
    probe = directory
    while not probe.exists() and probe.parent != probe:
        created.append(probe)
        probe = probe.parent
    try:
        for missing in reversed(created):
            missing.mkdir()
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise InputError(f"{option} {directory}: cannot write there "
                         f"({exc.strerror or exc})") from None
    finally:
        for made in created:
            try:
                made.rmdir()
            except OSError:
                pass


def check_output_file(path: Path, option: str) -> None:
    """InputError unless ``path`` can be written as a file (its directory is writable and
    it is not a directory); nothing is created."""
    if path.is_dir():
        raise InputError(f"{option} {path}: is a directory")
    if not path.parent.is_dir():
        raise InputError(f"{option} {path}: the directory {path.parent} does not exist")
    check_output_dir(path.parent, option)
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{option} {path}: not writable")


def announce(path: Path | str) -> None:
    """Name a written file on stderr, so that a user knows what a run left where."""
    click.echo(f"wrote {path}", err=True)
