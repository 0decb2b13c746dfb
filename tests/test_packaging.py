"""A built wheel works outside the source tree, not only the editable install of `make`.

The sources (package directories, pyproject.toml, setup.py, README.md) are copied to a
temporary directory, an sdist is built from them, and the wheel is built from the unpacked
sdist, as pip and `python -m build` do, so a file missing from the sdist fails here. The
wheel goes into a fresh virtualenv; to keep the test fast, its dependencies come from this
environment's site-packages through a .pth file (not the editable zkcheck: .pth files of
an added directory are not processed). The model is not compiled here
(``ZKCHECK_NO_COMPILE=1``): the installed interpreted modules must run without a warning.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = ("zkcheck", "model", "invariants", "explorer")
ZOO_CFG = "server.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n"


def run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-3000:])
    return done


@pytest.mark.slow
def test_wheel_and_sdist_install_into_a_fresh_venv(tmp_path: Path) -> None:
    env = {**os.environ, "ZKCHECK_NO_COMPILE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    src, dist = tmp_path / "src", tmp_path / "dist"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for directory in PACKAGE_DIRS:
        shutil.copytree(ROOT / directory, src / directory, ignore=shutil.ignore_patterns(
            "__pycache__", "*.so", "_native_build.json"))
    run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
         "b.build_sdist(sys.argv[1])", dist], src, env)
    (sdist,) = dist.glob("zkcheck-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, unpacked],
        tmp_path, env)
    (wheel,) = dist.glob("zkcheck-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for module in ("zkcheck/__main__.py", "zkcheck/commands/explore.py", "zkcheck/render/html.py",
                   "zkcheck/conformance/run.py", "zkcheck/model/fle.py",
                   "zkcheck/invariants/fle.py", "zkcheck/explorer/search.py"):
        assert module in names, module
    assert not [n for n in names if n.split("/")[0] in ("model", "invariants", "explorer")]

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, env)
    python = venv / "bin" / "python"
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
               tmp_path, env).stdout.strip()
    Path(site, "_zkcheck_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
         "--no-index", wheel], tmp_path, env)

    work = tmp_path / "work"
    work.mkdir()
    (work / "zoo.cfg").write_text(ZOO_CFG)
    zkcheck = venv / "bin" / "zkcheck"
    where = run([python, "-c", "import zkcheck.commands, zkcheck.model.fle as f; "
                 "print(zkcheck.commands.__file__, f.__file__)"], work, env).stdout
    assert where.count(str(venv)) == 2, where
    assert "Usage: zkcheck" in run([zkcheck, "--help"], work, env).stdout
    explored = run([zkcheck, "explore", "--servers", "2", "--no-progress"], work, env)
    assert "162 distinct states" in explored.stdout  # 434 without partial-order reduction
    assert explored.stderr == "", explored.stderr  # the interpreted model, silently
    proven = run([zkcheck, "prove", "quorum", "zoo.cfg"], work, env)
    assert "verdict: PROVEN (exit 0)" in proven.stdout
    module = run([python, "-m", "zkcheck", "prove", "quorum", "zoo.cfg"], work, env)
    assert "verdict: PROVEN (exit 0)" in module.stdout
