"""The compiled model (mypyc, ``zkcheck._native``) behaves exactly like the interpreted one,
and both like the model before the speed work (commit ef93e5d).

For each configuration a breadth-first walk records, per expanded state, every action label,
the canonical encoding of every successor and the value of every invariant and witness on
it; the SHA-256 of that record and the distinct-state count are compared with the values
recorded from ef93e5d, in this process (compiled when the build could) and in a subprocess
with ``ZKCHECK_PURE=1`` (interpreted). Run as a script it prints its own figures.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from zkcheck import _native
from zkcheck.explorer.model import PropertyKind
from zkcheck.fle_options import build_fle_model

CONFIGS = [
    # (options, depth, distinct states within depth, sha256 of the walk) from ef93e5d
    ({"servers": 3}, 10, 13839,
     "f69398a5346d46dff4067e2e40e5180db76aec433bef8340154cd1447f174102"),
    # re-recorded with issue 17's ACKEPOCH change (a leader keeps what each counted
    # ACKEPOCH carried, history records too; with crashes setepoch/newleader-ack are steps):
    # 3155 states and 1cb0aa78... before, 2854 and 35f937e8... before
    ({"servers": 2, "crashes": 1, "restarts": 1}, 20, 3159,
     "eeb5e191d0b06d5a6d4c59e2f55b1bf52c210f4fbfb2dbe2137c2bc9a76b0ca4"),
    ({"servers": 3, "scenario": "leader-crash", "timeouts": 1}, 40, 2854,
     "fbd3eee5ad62c93693c646e05f12054bfedb27e21cebc6f5ebc9d0a16dd9eec5"),
    ({"servers": 3, "zk_version": "3.4.3", "observers": 1, "link_failures": 1,
      "timeouts": 1}, 8, 6264,
     "067645cfba8bdf312f584eea67dfa7cf6cdf02306ebe16f28d828dcae4f94b67"),
    # re-recorded with issue 17 (the history record's layout): 604ae40f... before
    ({"servers": 5, "scenario": "leader-crash", "client_writes": 1}, 5, 446,
     "c3d90b115e715143177ac1706e5a077a06f9f6782462c8b0177845093c307493"),
]


PROPERTIES = ("Leadership", "EpochMonotonic", "DecisionSupported",
              "EstablishedLeaderUpToDate", "VoteOrderIsStrict", "LeaderEstablished",
              "TwoLeadingSameRound", "BoundStall")
"""The invariants and witnesses of ef93e5d, in its order: properties added since are
checked by their own tests, and the walk records only these."""


OLD_SEMANTICS = ("zxid_on_disk_only",)
"""Flags that restore rules of ef93e5d which the model has refined since (the in-memory
zxid of §7); the walk runs with them."""


def walk(options: dict, depth: int) -> tuple[int, str]:
    """(distinct states within ``depth``, SHA-256 of labels, successor encodings and
    property values in breadth-first order)."""
    model = build_fle_model(**options, variant_flags=OLD_SEMANTICS)
    by_name = {p.name: p.predicate for p in model.properties()
               if p.kind in (PropertyKind.INVARIANT, PropertyKind.WITNESS)}
    predicates = [by_name[name] for name in PROPERTIES]
    digest = hashlib.sha256()
    init = model.initial_states()[0]
    seen = {model.encode(init)}
    level = [init]
    for _ in range(depth):
        nxt = []
        for state in level:
            for label, succ in model.actions(state):
                key = model.encode(succ)
                digest.update(label.encode() + b"\0" + key)
                digest.update(bytes(bool(p(succ)) for p in predicates))
                if key not in seen:
                    seen.add(key)
                    nxt.append(succ)
        level = nxt
    return len(seen), digest.hexdigest()


def figures() -> list[tuple[int, str]]:
    return [walk(options, depth) for options, depth, _, _ in CONFIGS]


def test_figures_match_ef93e5d_compiled_or_as_installed():
    assert figures() == [(n, sha) for _, _, n, sha in CONFIGS]


def test_figures_match_ef93e5d_interpreted():
    env = dict(os.environ, **{_native.PURE_ENV: "1"})
    done = subprocess.run([sys.executable, __file__], env=env, check=True,
                          capture_output=True, text=True)
    out = json.loads(done.stdout)
    assert set(out["modules"]) == {"interpreted"}
    assert [tuple(f) for f in out["figures"]] == [(n, sha) for _, _, n, sha in CONFIGS]


def test_a_changed_source_is_stale(tmp_path):
    """The import guard uses the interpreted modules once a compiled source was edited."""
    (tmp_path / "model").mkdir()
    source = tmp_path / "model" / "state.py"
    source.write_text("X = 1\n")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(
        {"zkcheck.model.state": hashlib.sha256(source.read_bytes()).hexdigest()}))
    assert _native.stale_sources(tmp_path, manifest) == []
    source.write_text("X = 2\n")
    assert _native.stale_sources(tmp_path, manifest) == [source]
    source.unlink()
    assert _native.stale_sources(tmp_path, manifest) == [source]


if __name__ == "__main__":
    result = figures()
    print(json.dumps({"figures": result, "modules": sorted(set(_native.status().values()))}))
