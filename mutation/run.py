"""``make mutate``: run the specs against each semantic mutant of model/ and classify.

For each mutant (``mutation/mutants.py``) the file is patched in place, the specs run in
a fresh process (``zkcheck check``'s runner, JUnit output), and the file is restored
(also on Ctrl-C). A mutant is

* killed by a property: some spec that expected a property to hold now reports it
  violated -- the strong alarm;
* killed by a verdict: another verdict or trace length changed;
* killed by drift: only a distinct-state count changed -- the weak alarm;
* survived: every spec passed.

Usage: ``python mutation/run.py [-k TEXT] [--specs DIR] [--skip SPEC ...]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "mutation"))

from mutants import EQUIVALENT, MUTANTS  # noqa: E402

RUNNER = """
import sys
from pathlib import Path
from zkcheck.commands.check import _junit
from zkcheck.specs import find_specs, run_spec
skip = set(sys.argv[3:])
specs = [s for s in find_specs([Path(sys.argv[1])]) if s.name not in skip]
_junit([run_spec(s) for s in specs], Path(sys.argv[2]))
"""


def classify(junit: Path) -> tuple[str, list[str]]:
    """(kind, failure lines) of one spec run."""
    lines = []
    for case in ET.parse(junit).getroot():
        failure = case.find("failure")
        if failure is not None:
            lines += [f"{case.get('name')}: {line}" for line in (failure.text or "").split("\n")]
    if not lines:
        return "survived", lines
    if any("got 'violated'" in line for line in lines):
        return "property", lines
    if any(not line.split(": ", 1)[1].startswith("distinct states drifted") for line in lines):
        return "verdict", lines
    return "drift", lines


def run_mutant(file: Path, old: str, new: str, specs: Path, skip: list[str]) -> tuple[str, list]:
    text = file.read_text()
    if text.count(old) != 1:
        raise SystemExit(f"mutant text not found exactly once in {file}: {old!r}")
    try:
        file.write_text(text.replace(old, new))
        with tempfile.TemporaryDirectory() as tmp:
            junit = Path(tmp) / "junit.xml"
            done = subprocess.run([sys.executable, "-c", RUNNER, str(specs), str(junit), *skip],
                                  capture_output=True, text=True)
            if done.returncode != 0 or not junit.exists():
                return "verdict", [f"crashed: {done.stderr.strip().splitlines()[-1:]}"]
            return classify(junit)
    finally:
        file.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-k", dest="match", default=None, help="only mutants whose name has TEXT")
    parser.add_argument("--specs", type=Path, default=ROOT / "specs")
    parser.add_argument("--skip", nargs="*", default=["r7-leadership", "startup"],
                        help="spec names not run (default: the two slow depth-bounded ones)")
    args = parser.parse_args()
    counts = {"property": 0, "verdict": 0, "drift": 0, "survived": 0}
    for name, rel, old, new in MUTANTS:
        if args.match and args.match not in name:
            continue
        if name in EQUIVALENT:
            print(f"{name:36} equivalent (argued in mutation/mutants.py)")
            continue
        kind, lines = run_mutant(ROOT / rel, old, new, args.specs, args.skip)
        counts[kind] += 1
        violated = [line for line in lines if "got 'violated'" in line]
        first = (violated or lines or [""])[0]
        print(f"{name:36} {kind:9} {first}", flush=True)
    total = sum(counts.values())
    if total:
        print(f"\n{total} non-equivalent mutants: killed by a property {counts['property']} "
              f"({100 * counts['property'] / total:.0f}%), by a verdict {counts['verdict']}, "
              f"by drift {counts['drift']}, survived {counts['survived']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
