"""The visited store against a plain dict, with random batches (hypothesis)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from zkcheck.explorer.fingerprint import fingerprint
from zkcheck.explorer.store import NO_PARENT, StateStore

fps64 = st.integers(min_value=0, max_value=2**64 - 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.one_of(fps64, st.integers(0, 40)), max_size=300), max_size=12))
def test_batches_match_a_dict(batches: list[list[int]]) -> None:
    store, reference = StateStore(capacity=4), {}
    for batch in batches:
        array = np.array(batch, dtype=np.uint64)
        parents = np.arange(len(batch), dtype=np.uint32)
        indices, new_positions = store.add_batch(array, parents, parents.astype(np.uint32))
        expected_new = []
        for position, fp in enumerate(batch):
            if fp not in reference:
                reference[fp] = len(reference)
                expected_new.append(position)
            assert indices[position] == reference[fp]
        assert new_positions.tolist() == expected_new
    assert store.count == len(reference)
    for fp, index in reference.items():
        assert store.find(fp) == index
        assert int(store.fps[index]) == fp


def test_scalar_path_and_label_widening() -> None:
    store = StateStore(with_depth=True, capacity=2)
    first = store.add(7, NO_PARENT, 3, 0)
    second = store.add(2**64 - 1, first, 70_000, 5)
    assert store.find(7) == first and store.find(2**64 - 1) == second
    assert store.find(8) == -1
    assert int(store.labels[second]) == 70_000 and int(store.labels[first]) == 3
    store.relink(second, first, 4, 1)
    assert int(store.depths[second]) == 1


def test_fingerprint_is_stable_across_processes() -> None:
    # a fixed value: the same on every run, process and machine (not Python's salted hash())
    assert fingerprint(b"zkcheck") == 0x4AA5D4DA42A8BEC1
    code = "from zkcheck.explorer.fingerprint import fingerprint; print(fingerprint(b'zkcheck'))"
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout
        assert int(out) == 0x4AA5D4DA42A8BEC1
