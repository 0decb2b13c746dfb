"""Checkpoints of a partitioned breadth-first search, and resuming from them.

A checkpoint is a directory ``DIR/current`` holding every shard's files (its visited set
with links, the unread part of the level being expanded, the next level) and a manifest:
the zkcheck version, the identity of the run (model options and search settings), the
coordinator's counters, and a SHA-256 of every file. It is written into ``DIR/new`` and
only then renamed over the previous one, so a complete checkpoint is never replaced by an
incomplete one. Resuming re-partitions the states by fingerprint, so the worker count and
the backend may change between runs (for a cluster, DIR must be on storage every node
sees).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
FORMAT = 2  # 2: blocks compressed with zstd (was zlib)
FREE = {"depth"}
"""Identity keys a resumed run may change: levels do not depend on the depth bound, so a
run can be resumed to go deeper."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed (missing, foreign, from another version,
    damaged); the message is one line."""


def zkcheck_version() -> str:
    try:
        return version("zkcheck")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write(directory: Path, backend: Any, identity: dict, counters: dict) -> None:
    """Save every shard and the manifest; replace ``directory/current`` atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    new, current, old = directory / "new", directory / "current", directory / "previous"
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    shards = backend.call_all("save", str(new))
    files = {p.name: _digest(p) for p in sorted(new.iterdir())}
    manifest = {"format": FORMAT, "zkcheck": zkcheck_version(), "identity": identity,
                "shards": backend.count, "counters": counters, "shard_counters": shards,
                "files": files}
    (new / MANIFEST).write_text(json.dumps(manifest, indent=1, default=_plain))
    shutil.rmtree(old, ignore_errors=True)
    if current.exists():
        current.rename(old)
    new.rename(current)
    shutil.rmtree(old, ignore_errors=True)


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple | set):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


def read_manifest(directory: Path, identity: dict | None = None) -> dict:
    """The manifest of ``directory``'s checkpoint, checked (CheckpointError if unusable)."""
    folder = directory / "current"
    path = folder / MANIFEST
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: no such checkpoint directory")
    if not path.is_file():
        raise CheckpointError(f"{directory}: not a zkcheck checkpoint (no current/{MANIFEST})")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{directory}: damaged checkpoint manifest ({exc})") from None
    if manifest.get("format") != FORMAT or "files" not in manifest:
        raise CheckpointError(f"{directory}: unknown checkpoint format")
    if manifest.get("zkcheck") != zkcheck_version():
        raise CheckpointError(f"{directory}: written by zkcheck {manifest.get('zkcheck')}, "
                              f"this is {zkcheck_version()}")
    if identity is not None:
        theirs = manifest.get("identity", {})
        ours = json.loads(json.dumps(identity, default=_plain))
        keys = sorted(k for k in set(theirs) | set(ours)
                      if k not in FREE and theirs.get(k) != ours.get(k))
        if keys:
            raise CheckpointError(f"{directory}: the checkpoint is of another run (differs "
                                  f"in {', '.join(keys)})")
    for name, digest in manifest["files"].items():
        file = folder / name
        if not file.is_file() or _digest(file) != digest:
            raise CheckpointError(f"{directory}: damaged checkpoint ({name} is missing or "
                                  "altered)")
    return manifest


def restore(directory: Path, backend: Any, identity: dict) -> dict:
    """Load a checkpoint into the shards (any number of them); the coordinator's
    counters."""
    manifest = read_manifest(directory, identity)
    counters = manifest["counters"]
    backend.call_all("restore", str(directory / "current"), manifest["shards"], counters)
    return counters
