"""Times of ``zkcheck prove leadership``'s parts for N = 3, 5, 7 (issue 18).

One process per measurement (``--part bmc|induction|every-n --servers N``) so a slow case
can be cut off by the caller; prints wall-clock and CPU seconds (the machine may be
shared: CPU time is the fairer figure). BMC runs to the default depth, which is long
enough for a leader to be established (8, 9, 13 for N = 3, 5, 7), with decided epochs <= 2.
Run all: ``.venv/bin/python benchmarks/bench_proofs.py`` (each case under ``timeout``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from zkcheck.invariants.leadership_bmc import bmc
from zkcheck.invariants.leadership_induction import k_induction
from zkcheck.invariants.leadership_param import prove_param
from zkcheck.invariants.leadership_prove import default_depth
from zkcheck.invariants.leadership_quorums import majority


def measure(part: str, n: int) -> str:
    wall, cpu = time.perf_counter(), time.process_time()
    if part == "bmc":
        depth = default_depth(majority(n))
        r = bmc(n, depth)
        what = (f"depth {depth}, witness {len(r.witness) if r.witness else None} steps, "
                f"ok={r.ok}, per depth {[round(x, 1) for x in r.seconds_per_depth]}")
    elif part == "induction":
        r = k_induction(n)
        what = f"proven={r.proven}"
    else:
        r = prove_param()
        what = f"proven={r.proven}"
    return (f"{part:9} N={n}: wall {time.perf_counter() - wall:7.1f} s, "
            f"cpu {time.process_time() - cpu:7.1f} s  ({what})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=["bmc", "induction", "every-n"])
    ap.add_argument("--servers", type=int)
    ap.add_argument("--timeout", type=int, default=1800)
    args = ap.parse_args()
    if args.part:
        print(measure(args.part, args.servers), flush=True)
        return
    cases = [("every-n", 0)] + [(p, n) for n in (3, 5, 7) for p in ("induction", "bmc")]
    for part, n in cases:
        try:
            subprocess.run([sys.executable, __file__, "--part", part, "--servers", str(n)],
                           timeout=args.timeout, check=True)
        except subprocess.TimeoutExpired:
            print(f"{part:9} N={n}: more than {args.timeout} s (stopped)", flush=True)


if __name__ == "__main__":
    main()
