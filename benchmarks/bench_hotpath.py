"""Per-state CPU cost of the FLE model's hot path, against a base commit, side by side.

The breadth-first engine of issue 14 keeps frontier states as bytes, so expanding one state
costs: decode (``marshal.loads`` of its bytes), ``model.actions(state)``, ``model.encode``
of each successor, and every invariant and witness predicate on each successor. This
benchmark measures those four on a fixed, deterministic sample of FLE states:

* every state up to depth 10 of ``--servers 3`` (the default run),
* every state up to depth 7 of ``--servers 5 --scenario leader-crash``,
* every state up to depth 9 of ``--servers 3 --crashes 1 --restarts 1``,

(each the breadth-first set of distinct states, built with the model under test; both
sides must build the same sample, checked by a hash of its encodings), in three
subprocesses: the base commit (default ``ef93e5d``, extracted with ``git archive`` into a
temporary directory and imported from there), this tree interpreted (``ZKCHECK_PURE=1``)
and this tree as installed (compiled where the build could). It then times the
end-to-end ``zkcheck explore --servers 3 --depth 20`` of the base and of this tree.

All figures are CPU time (``time.process_time``; the children's rusage for the end-to-end
runs), not wall-clock time, because the machine is shared; each component is the minimum
over ``--repeat`` passes in each of ``--rounds`` alternating runs of the sides. Run:
``.venv/bin/python benchmarks/bench_hotpath.py`` (``--quick``: fewer passes, end-to-end to
depth 14; ``--no-end-to-end``).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (("zkcheck", "zkcheck"), ("zkcheck.model", "model"),
            ("zkcheck.invariants", "invariants"), ("zkcheck.explorer", "explorer"))
SAMPLES = (
    ("3 servers, depth <= 10", {"servers": 3}, 10),
    ("5 servers leader-crash, depth <= 7", {"servers": 5, "scenario": "leader-crash"}, 7),
    ("3 servers crashes 1 restarts 1, depth <= 9",
     {"servers": 3, "crashes": 1, "restarts": 1}, 9),
)
COMPONENTS = ("decode", "actions", "encode", "predicates")


def import_tree(root: str) -> None:
    """Import the package from a source tree (not installed), honouring pyproject's
    package-dir mapping (``zkcheck.model`` is ``model/`` ...)."""
    import importlib.util

    modules = []
    for name, directory in PACKAGES:
        path = os.path.join(root, directory)
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(path, "__init__.py"), submodule_search_locations=[path])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        if "." in name:
            setattr(sys.modules["zkcheck"], name.rpartition(".")[2], module)
        modules.append((spec, module))
    for spec, module in modules:
        spec.loader.exec_module(module)


def sample_states(model, depth: int) -> list:
    """Breadth-first distinct states up to ``depth``, in a fixed order."""
    init = model.initial_states()[0]
    seen = {model.encode(init)}
    level, states = [init], [init]
    for _ in range(depth):
        nxt = []
        for state in level:
            for _, succ in model.actions(state):
                key = model.encode(succ)
                if key not in seen:
                    seen.add(key)
                    nxt.append(succ)
        states += nxt
        level = nxt
    return states


def measure(options: dict, depth: int, repeat: int) -> dict:
    """CPU seconds of each component over the sample (minimum of ``repeat`` passes)."""
    import marshal

    from zkcheck.explorer.model import PropertyKind
    from zkcheck.fle_options import build_fle_model

    model = build_fle_model(**options)
    states = sample_states(model, depth)
    blobs = [marshal.dumps(s, 2) for s in states]
    successors = [t for s in states for _, t in model.actions(s)]
    encode = model.encode
    predicates = [p.predicate for p in model.properties()
                  if p.kind in (PropertyKind.INVARIANT, PropertyKind.WITNESS)]
    digest = hashlib.sha256()
    for s in states:
        digest.update(encode(s))
        for label, t in model.actions(s):
            digest.update(label.encode())
            digest.update(encode(t))
    verdicts = hashlib.sha256(bytes(
        p(t) for p in predicates for t in successors)).hexdigest()

    def decode() -> None:
        loads = marshal.loads
        for b in blobs:
            loads(b)

    def actions() -> None:
        act = model.actions
        for s in states:
            act(s)

    def encode_all() -> None:
        for t in successors:
            encode(t)

    def check() -> None:
        for p in predicates:
            for t in successors:
                p(t)

    best = {}
    for _ in range(repeat):
        for name, fn in zip(COMPONENTS, (decode, actions, encode_all, check), strict=True):
            t0 = time.process_time()
            fn()
            dt = time.process_time() - t0
            best[name] = min(best.get(name, dt), dt)
    return {"states": len(states), "successors": len(successors), "seconds": best,
            "sample_sha256": digest.hexdigest(), "verdicts_sha256": verdicts}


def worker(args: argparse.Namespace) -> None:
    if args.tree:
        import_tree(args.tree)
    gc.disable()  # as the explorer's search loop does
    out = {"samples": [measure(options, depth, args.repeat) for _, options, depth in SAMPLES]}
    from zkcheck.model import election

    # a function compiled by mypyc is a builtin, an interpreted one a Python function
    out["modules"] = ["interpreted" if inspect.isfunction(election.process) else "compiled"]
    print(json.dumps(out))


def run_worker(tree: str | None, pure: bool, repeat: int) -> dict:
    env = dict(os.environ)
    if pure:
        env["ZKCHECK_PURE"] = "1"
    cmd = [sys.executable, __file__, "--worker", "--repeat", str(repeat)]
    if tree:
        cmd += ["--tree", tree]
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def merge_min(results: dict, label: str, new: dict) -> None:
    """Keep the per-component minimum over rounds."""
    old = results.setdefault(label, new)
    for sample, fresh in zip(old["samples"], new["samples"], strict=True):
        for c in COMPONENTS:
            sample["seconds"][c] = min(sample["seconds"][c], fresh["seconds"][c])


def end_to_end(tree: str | None, pure: bool, depth: int) -> tuple[float, str]:
    """CPU seconds (user + system of the child) of ``zkcheck explore --servers 3``."""
    env = dict(os.environ)
    if pure:
        env["ZKCHECK_PURE"] = "1"
    prelude = (f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
               f"import bench_hotpath; bench_hotpath.import_tree({tree!r}); " if tree else "")
    code = prelude + (
        "import inspect, sys; from zkcheck.model import election; "
        "print('[interpreted]' if inspect.isfunction(election.process) else '[compiled]'); "
        "from zkcheck.cli import main; sys.argv = ['zkcheck', "
        f"'explore', '--servers', '3', '--depth', '{depth}']; main()")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = stdout.splitlines()
    states = next((line.strip() for line in lines if "distinct" in line), "?")
    return usage.ru_utime + usage.ru_stime, f"{lines[0] if lines else ''} {states}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="ef93e5d")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="worker runs per side")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-end-to-end", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    repeat = 2 if args.quick else args.repeat
    print(f"CPU time per expanded state (time.process_time, min of {repeat} passes in each "
          f"of {args.rounds} rounds; the "
          f"machine is shared, so CPU not wall time); load {os.getloadavg()[0]:.1f}",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="zkcheck-base-") as base:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", base], input=archive, check=True)
        sides = [(f"base {args.base}", base, False), ("this tree, interpreted", None, True),
                 ("this tree, as installed", None, False)]
        results: dict[str, dict] = {}
        for _ in range(args.rounds):  # alternate the sides: the load changes over time
            for label, tree, pure in sides:
                merge_min(results, label, run_worker(tree, pure, repeat))
        base_label = sides[0][0]
        for i, (name, _, _) in enumerate(SAMPLES):
            ref = results[base_label]["samples"][i]
            print(f"\n{name}: {ref['states']:,} states, {ref['successors']:,} successors "
                  f"({ref['successors'] / ref['states']:.2f} per state)")
            print(f"  {'us/state':<34}" + "".join(f"{c:>11}" for c in COMPONENTS)
                  + f"{'total':>11}{'speed-up':>10}")
            for label, res in results.items():
                sample = res["samples"][i]
                same = (sample["sample_sha256"] == ref["sample_sha256"]
                        and sample["verdicts_sha256"] == ref["verdicts_sha256"])
                us = {c: sample["seconds"][c] / sample["states"] * 1e6 for c in COMPONENTS}
                total = sum(us.values())
                ref_total = sum(ref["seconds"].values()) / ref["states"] * 1e6
                tag = f"{label} [{','.join(res['modules'])}]"
                print(f"  {tag:<34}" + "".join(f"{us[c]:>11.2f}" for c in COMPONENTS)
                      + f"{total:>11.2f}{ref_total / total:>9.2f}x"
                      + ("" if same else "  RESULTS DIFFER"), flush=True)
        if not args.no_end_to_end:
            depth = 14 if args.quick else 20
            print(f"\nend to end: zkcheck explore --servers 3 --depth {depth} (CPU seconds)")
            e2e = {}
            for label, tree, pure in sides:
                e2e[label], states = end_to_end(tree, pure, depth)
                print(f"  {label:<34}{e2e[label]:>8.1f} s  "
                      f"{e2e[base_label] / e2e[label]:.2f}x   {states}", flush=True)


if __name__ == "__main__":
    main()
