"""Build hook: compile the FLE model's hot modules with mypyc, or fall back to pure Python.

Everything else about the package is declared in pyproject.toml; the package list is
found here, from pyproject's package-dir mapping and the directories on disk. The sources stay plain
Python with type hints; mypyc turns the modules in ``NATIVE_MODULES`` into C extensions
that are imported instead of the ``.py`` files (an editable install puts the ``.so`` files
next to the sources). If mypyc is missing, rejects a module or the C compiler fails, the
build prints a warning and installs the interpreted modules, which behave identically.
``ZKCHECK_NO_COMPILE=1`` skips compilation; at run time ``ZKCHECK_PURE=1`` ignores built
modules (``zkcheck._native``). See docs/performance.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tomllib
import traceback
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
# the mapping is declared once, in pyproject.toml: model/ is installed as zkcheck.model ...
PACKAGE_DIRS: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text())[
    "tool"]["setuptools"]["package-dir"]


def packages() -> list[str]:
    """Every package to install: each mapped directory and all its subpackages, found on
    disk (a new subpackage needs no entry anywhere)."""
    found = []
    for package, directory in PACKAGE_DIRS.items():
        found.append(package)
        found += [f"{package}.{sub}" for sub in find_packages(str(ROOT / directory))]
    return sorted(set(found))

sys.path.insert(0, str(ROOT / "zkcheck"))
from _native import MANIFEST, NATIVE_MODULES  # noqa: E402

sys.path.pop(0)
STAGE = ROOT / "build" / "mypyc-src"
GROUP = "zkcheck.native"  # the shared library of the compiled modules: zkcheck/native__mypyc


def warn(message: str) -> None:
    bar = "*" * 78
    print(f"\n{bar}\nzkcheck: WARNING: {message}\nzkcheck: using the interpreted modules "
          f"(same results, slower; see docs/performance.md)\n{bar}\n", file=sys.stderr,
          flush=True)


def source_of(module: str) -> Path:
    package, _, name = module.rpartition(".")
    return ROOT / PACKAGE_DIRS[package] / f"{name}.py"


def stage_sources() -> list[str]:
    """Copy the packages into build/mypyc-src laid out as installed (``zkcheck/model/...``),
    so that mypy derives the right module names from the paths; return the files to
    compile."""
    if STAGE.exists():
        shutil.rmtree(STAGE)
    for package, directory in PACKAGE_DIRS.items():
        target = STAGE.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        for py in (ROOT / directory).glob("*.py"):
            shutil.copy2(py, target / py.name)
    return [str(STAGE.joinpath(*m.split(".")).with_suffix(".py")) for m in NATIVE_MODULES]


def write_manifest() -> None:
    """Record the hash of each compiled source: ``zkcheck._native`` ignores an extension
    whose source changed since (an edited model is never shadowed by a stale build)."""
    hashes = {m: hashlib.sha256(source_of(m).read_bytes()).hexdigest() for m in NATIVE_MODULES}
    (ROOT / "zkcheck" / MANIFEST).write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")


def remove_previous_build() -> None:
    """Delete extensions of an earlier build, so that they cannot shadow the sources."""
    for module in NATIVE_MODULES:
        for built in source_of(module).parent.glob(module.rpartition(".")[2] + ".*.so"):
            built.unlink()
    for built in (ROOT / "zkcheck").glob(f"{GROUP.rpartition('.')[2]}__mypyc.*.so"):
        built.unlink()
    (ROOT / "zkcheck" / MANIFEST).unlink(missing_ok=True)


def native_extensions() -> list:
    if os.environ.get("ZKCHECK_NO_COMPILE"):
        print("zkcheck: ZKCHECK_NO_COMPILE set, not compiling", file=sys.stderr)
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        warn("mypyc (package mypy) is not installed, the model is not compiled")
        return []
    cwd = os.getcwd()
    try:
        files = stage_sources()
        os.chdir(STAGE)
        return mypycify([*files, "--ignore-missing-imports", "--follow-imports=silent"],
                        opt_level="3", group_name=GROUP,
                        target_dir=str(ROOT / "build" / "mypyc-c"))
    except BaseException as exc:  # mypy reports type errors with SystemExit
        traceback.print_exc()
        warn(f"mypyc could not compile the model ({type(exc).__name__})")
        remove_previous_build()
        return []
    finally:
        os.chdir(cwd)


class OptionalBuildExt(build_ext):
    """build_ext that turns a failed C build into a warning and the pure-Python modules."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # compiler missing, headers missing, compile error
            traceback.print_exc()
            warn(f"the C build of the compiled model failed ({exc})")
            remove_previous_build()
            return
        if self.extensions:
            write_manifest()


setup(packages=packages(), ext_modules=native_extensions(),
      cmdclass={"build_ext": OptionalBuildExt})
