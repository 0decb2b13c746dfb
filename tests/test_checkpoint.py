"""Checkpoint and resume: any worker count, exactly the counts of an uninterrupted run.

The CLI is run as a user runs it (a subprocess for signals); counts are compared with an
uninterrupted run of the same configuration.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zkcheck.cli import main

EXE = str(Path(sys.executable).with_name("zkcheck"))
RUN = ["explore", "--servers", "3", "--depth", "14", "--no-progress"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def stats_line(out: str) -> tuple[str, str, str]:
    lines = out.splitlines()
    stats = next(line for line in lines if line.startswith("statistics:"))
    levels = next(line for line in lines if line.startswith("states per depth:"))
    fired = next(line for line in lines if line.startswith("actions fired"))
    return stats.split(", max depth")[0], levels, fired


@pytest.fixture(scope="module")
def uninterrupted() -> tuple[str, str]:
    out = subprocess.run([EXE, *RUN], capture_output=True, text=True, check=True).stdout
    return stats_line(out)


def test_level_checkpoints_resume_with_other_worker_counts(capsys, tmp_path, uninterrupted):
    ck = tmp_path / "ck"
    code, out, _ = run(capsys, *RUN, "--checkpoint", str(ck), "--max-states", "60000")
    assert code == 0 and "states bound 60000 hit" in out
    manifest = json.loads((ck / "current" / "manifest.json").read_text())
    assert manifest["identity"]["options"]["servers"] == 3
    for workers in ("3", "1"):
        code, out, _ = run(capsys, "explore", "--resume", str(ck), "--workers", workers,
                           "--no-progress", "--checkpoint", str(tmp_path / f"w{workers}"))
        assert code == 0
        assert stats_line(out) == uninterrupted


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_a_resumable_checkpoint(capsys, tmp_path, uninterrupted, sig):
    ck = tmp_path / "ck"
    proc = subprocess.Popen([EXE, *RUN, "--workers", "2", "--checkpoint", str(ck),
                             "--checkpoint-every", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    deadline = time.time() + 60
    while not (ck / "current").exists() and time.time() < deadline:
        time.sleep(0.05)  # the first checkpoint is written after level 0: the run is on
    proc.send_signal(sig)  # at once: the whole run takes only seconds
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    assert "interrupted" in out and "Traceback" not in err
    manifest = json.loads((ck / "current" / "manifest.json").read_text())
    assert manifest["counters"]["mid_level"] is True
    code, out, _ = run(capsys, "explore", "--resume", str(ck), "--workers", "3",
                       "--no-progress")
    assert code == 0 and stats_line(out) == uninterrupted


def test_bad_checkpoints_are_refused(capsys, tmp_path):
    ck = tmp_path / "ck"
    assert run(capsys, "explore", "--servers", "2", "--checkpoint", str(ck),
               "--no-progress")[0] == 0
    code, _, err = run(capsys, "explore", "--resume", str(tmp_path / "missing"))
    assert code == 2 and "no such checkpoint directory" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "explore", "--resume", str(tmp_path / "empty"))
    assert code == 2 and "not a zkcheck checkpoint" in err
    code, _, err = run(capsys, "explore", "--resume", str(ck), "--servers", "3")
    assert code == 2 and "--servers differs from the checkpoint" in err
    manifest = ck / "current" / "manifest.json"
    data = json.loads(manifest.read_text())
    original = manifest.read_text()
    manifest.write_text(json.dumps({**data, "zkcheck": "0.0.0"}))
    code, _, err = run(capsys, "explore", "--resume", str(ck))
    assert code == 2 and "written by zkcheck 0.0.0" in err
    manifest.write_text(original)
    store = next((ck / "current").glob("store-*.npz"))
    store.write_bytes(store.read_bytes()[:-7])
    code, _, err = run(capsys, "explore", "--resume", str(ck))
    assert code == 2 and "damaged checkpoint" in err
    assert "Traceback" not in err


def test_a_new_checkpoint_replaces_the_old_only_when_complete(tmp_path):
    from zkcheck.explorer import checkpoint

    class Broken:
        count = 1

        def call_all(self, method, *args):
            raise OSError("disk gone")

    ck = tmp_path / "ck"
    (ck / "current").mkdir(parents=True)
    (ck / "current" / "manifest.json").write_text("{}")
    with pytest.raises(OSError):
        checkpoint.write(ck, Broken(), {}, {})
    assert (ck / "current" / "manifest.json").read_text() == "{}"


def test_bad_reach_options(capsys, tmp_path):
    for args, message in (
        (["--workers", "-1"], "--workers must be >= 0"),
        (["--level-memory", "0"], "--level-memory must be >= 1"),
        (["--checkpoint-every", "-5"], "--checkpoint-every must be >= 0"),
        (["--ray", "127.0.0.1:1"], "cannot reach a Ray cluster"),
        (["--ray", "nonsense"], "expected auto, local or HOST:PORT"),
        (["--search", "dfs", "--workers", "2"], "breadth-first only"),
        (["--search", "dfs", "--checkpoint", str(tmp_path / "c")], "checkpoints are written"),
    ):
        code, out, err = run(capsys, "explore", "--servers", "2", *args)
        assert code == 2, args
        assert message in err and len(err.strip().splitlines()) == 1, err
        assert out == ""
    assert not (tmp_path / "c").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs (needs root, as in CI); unmounted by the test."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_full_spill_disk_stops_without_a_verdict(tmp_path, small_disk):
    ck = tmp_path / "ck"
    proc = subprocess.run([EXE, "explore", "--servers", "3", "--depth", "16", "--workers",
                           "2", "--level-memory", "10", "--spill", str(small_disk),
                           "--checkpoint", str(ck), "--no-progress"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == ""  # no verdict for states it did not explore
    assert proc.stderr.count("\n") == 1 and "spill disk is full" in proc.stderr
    assert "the last checkpoint" in proc.stderr
    assert (ck / "current" / "manifest.json").exists()
    assert list(small_disk.iterdir()) == []  # its level files are removed
