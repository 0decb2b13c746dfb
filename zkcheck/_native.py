"""Which modules the build compiles with mypyc, and the import guard that keeps them honest.

``setup.py`` compiles ``NATIVE_MODULES`` to C extensions (the sources stay the reference:
plain Python with type hints) and records each source's hash in ``MANIFEST``. At import
time a meta-path finder loads the interpreted source instead of the extensions

* when ``ZKCHECK_PURE`` is set (to compare both, and for the equivalence tests), or
* when any compiled source changed since the build (an edited model in an editable
  install must never be shadowed by a stale extension; a warning says to rebuild).

It is all or nothing: compiled modules call each other directly, so a mix of fresh
interpreted and stale compiled code could disagree. This module only uses the standard
library: ``setup.py`` imports it before the package exists.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path

NATIVE_MODULES = (
    "zkcheck.model.state",
    "zkcheck.model.votes",
    "zkcheck.model.roleloop",
    "zkcheck.model.zab",
    "zkcheck.model.election",
    "zkcheck.model.network",
    "zkcheck.model.faults",
    "zkcheck.model.fle",
    "zkcheck.invariants.fle",
    "zkcheck.invariants.fle_liveness",
    "zkcheck.invariants.fle_recomputed",
)
MANIFEST = "_native_build.json"
PURE_ENV = "ZKCHECK_PURE"


class _Guard(importlib.abc.MetaPathFinder):
    """Answers for ``NATIVE_MODULES`` only: the source loader where the interpreted module
    must be used, otherwise whatever the other finders find (the extension)."""

    def __init__(self) -> None:
        self.pure: bool | None = None  # decided at the first compiled module found
        self.loaded: dict[str, str] = {}  # module -> "compiled" | "interpreted"

    def find_spec(self, fullname, path, target=None):  # noqa: ANN001, ANN201
        if fullname not in NATIVE_MODULES:
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.origin is None:
            return spec
        origin = Path(spec.origin)
        if not origin.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
            self.loaded[fullname] = "interpreted"
            return spec
        source = origin.with_name(fullname.rpartition(".")[2] + ".py")
        if self.pure is None:
            self.pure = self._decide(origin.parent, fullname)
        if self.pure and source.exists():
            self.loaded[fullname] = "interpreted"
            return importlib.util.spec_from_file_location(fullname, source)
        self.loaded[fullname] = "compiled"
        return spec

    @staticmethod
    def _decide(directory: Path, fullname: str) -> bool:
        if os.environ.get(PURE_ENV):
            return True
        manifest = Path(__file__).with_name(MANIFEST)
        if not manifest.exists():
            return False  # a wheel install: sources and extensions ship together
        # directory holds the package's modules; its parent holds model/ and invariants/
        changed = stale_sources(directory.parent, manifest)
        if changed:
            warnings.warn(
                f"zkcheck: {changed[0]} changed since the compiled model was built; using the "
                "interpreted modules (run `make venv` to rebuild)", stacklevel=2)
        return bool(changed)


def stale_sources(root: Path, manifest: Path) -> list[Path]:
    """Compiled sources under ``root`` (``model/state.py`` ...) whose SHA-256 differs from the
    one ``manifest`` recorded at build time (or that are gone)."""
    changed = []
    for name, digest in json.loads(manifest.read_text()).items():
        package, _, leaf = name.rpartition(".")
        src = root / package.rpartition(".")[2] / f"{leaf}.py"
        if not src.exists() or hashlib.sha256(src.read_bytes()).hexdigest() != digest:
            changed.append(src)
    return changed


GUARD = _Guard()


def install() -> None:
    if GUARD not in sys.meta_path:
        sys.meta_path.insert(0, GUARD)


def status() -> dict[str, str]:
    """``{module: "compiled" | "interpreted"}`` for the hot modules imported so far (compiled
    modules import each other without asking the finders, so those it did not see are
    compiled)."""
    return {name: GUARD.loaded.get(name, "compiled") for name in NATIVE_MODULES
            if name in sys.modules}


def main() -> None:
    """One line saying whether the compiled model is in use
    (``make venv`` prints it, because pip hides the build's own warning)."""
    import inspect

    from zkcheck.model import election

    if not inspect.isfunction(election.process):
        print("zkcheck: compiled model in use (mypyc)")
    elif os.environ.get(PURE_ENV):
        print(f"zkcheck: interpreted model in use ({PURE_ENV} is set)")
    else:
        print("zkcheck: WARNING: the model is not compiled (the build fell back to the "
              "interpreted modules: same results, slower; see "
              "docs/performance.md)", file=sys.stderr)
